"""Dependencies declared once and reused by name in every route.

Routes live inside the feature folders, and the container that builds every service sits
above them all, so a route cannot import it. Instead the container publishes its services
by type (``app.state.provided``) and a route asks for the type it needs:
``Annotated[Ratings, Depends(provided(Ratings))]``. A feature names only its own services
and the floor's, never the container's field names."""

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.database import Database
from app.db.models import MAX_ROW_ID

T = TypeVar("T")


class ServiceNotProvidedError(LookupError):
    """A route asked for a type the container does not publish: a wiring mistake, caught by
    the test that resolves every route's dependencies."""


def provided_services(request: Request) -> Mapping[type, object]:
    return request.app.state.provided


@cache
def provided(kind: type[T]) -> Callable[[Request], T]:
    """The dependency that hands a route the process's one ``kind`` (cached, so FastAPI
    sees one callable per type and resolves it once per request)."""

    def resolve(request: Request) -> T:
        try:
            service = provided_services(request)[kind]
        except KeyError:
            raise ServiceNotProvidedError(f"no {kind.__name__} is provided") from None
        if not isinstance(service, kind):
            raise ServiceNotProvidedError(f"{kind.__name__} is published as {type(service)}")
        return service

    resolve.__name__ = f"provided_{kind.__name__}"
    resolve.provided_kind = kind  # type: ignore[attr-defined]  # what the wiring test reads
    return resolve


SettingsDep = Annotated[Settings, Depends(provided(Settings))]
DatabaseDep = Annotated[Database, Depends(provided(Database))]


def get_session(database: DatabaseDep) -> Iterator[Session]:
    """The request's one unit of work: services flush, this commits once the route returned
    (before the response is sent, so a client that got an id can use it at once) and rolls
    back when it raised."""
    with database.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


#: A row number in a path: the schema states the range the database can hold, so an id past
#: it is the caller's 422, and one inside it that names nothing is a 404.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Номер записи")]
