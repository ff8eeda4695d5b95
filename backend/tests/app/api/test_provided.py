"""Routes get their services by type from what the container publishes: every type any
route asks for is published, once, and a route never sees another type's object."""

from fastapi.routing import APIRoute

from app.access.rate_limit import LoginLimits, RateLimits
from app.container import Services


def api_routes(routes) -> list[APIRoute]:
    """Every endpoint, also inside the routers ``include_router`` wrapped."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def provided_kinds_asked_for(app) -> dict[type, list[str]]:
    asked: dict[type, list[str]] = {}

    def walk(dependant, path: str) -> None:
        for dependency in dependant.dependencies:
            kind = getattr(dependency.call, "provided_kind", None)
            if kind is not None:
                asked.setdefault(kind, []).append(path)
            walk(dependency, path)

    for route in api_routes(app.routes):
        walk(route.dependant, route.path)
    return asked


def test_every_service_a_route_asks_for_is_provided(client):
    asked = provided_kinds_asked_for(client.app)
    provided = client.app.state.provided
    assert len(asked) >= 15  # the check has something to check
    assert [kind.__name__ for kind in asked if kind not in provided] == []
    assert all(isinstance(provided[kind], kind) for kind in asked)


def test_look_alike_services_are_told_apart_by_type(client):
    """Questions' limits and operator logins are both rate limits: each route gets its own."""
    provided = client.app.state.provided
    assert type(provided[RateLimits]) is RateLimits
    assert type(provided[LoginLimits]) is LoginLimits
    assert provided[RateLimits] is not provided[LoginLimits]


def test_the_container_refuses_to_publish_two_services_of_one_type(client):
    services: Services = client.app.state.services
    twice = Services(**{**vars(services), "login_limits": services.rate_limits})
    try:
        twice.provided()
    except TypeError as error:
        assert "RateLimits" in str(error)
    else:
        raise AssertionError("two RateLimits were published")
