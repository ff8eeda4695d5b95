"""The OpenAPI document the service publishes, made to match what the server does."""

from collections.abc import Mapping
from types import MappingProxyType

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

#: Answers any operation can give, whatever its route declares: malformed JSON, a body over
#: MAX_BODY_BYTES, invalid fields (our JSON shape, not FastAPI's default) and a database
#: outage. Documented so clients — and the schema fuzzing — can rely on them.
_COMMON_ERRORS = MappingProxyType(
    {
        "400": "Тело запроса не является корректным JSON",
        "413": "Тело запроса больше MAX_BODY_BYTES",
        "422": "Некорректные данные",
        "503": "База данных временно недоступна",
    }
)


def describe_api(
    app: FastAPI, read_by_hand: Mapping[type[BaseModel], Mapping[str, dict]] = MappingProxyType({})
) -> None:
    """The published schema tells the truth: every operation lists the common error answers
    with the shape we send. ``read_by_hand``: bodies a route parses itself (FastAPI does
    not collect their models), each with the properties to amend — a limit the settings
    set rather than the parser's hard cap."""

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "ErrorResponse",
            {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
                "title": "ErrorResponse",
            },
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                if any(p.get("name") == "format" for p in operation.get("parameters", [])):
                    # Tables answer format=csv with the same rows as a CSV attachment.
                    ok = responses.setdefault("200", {"description": "OK"})
                    ok.setdefault("content", {})["text/csv"] = {"schema": {"type": "string"}}
                takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
                for status, description in _COMMON_ERRORS.items():
                    if status in {"400", "413", "422"} and not takes_input:
                        continue
                    documented = responses.get(status)
                    if documented is None or _is_fastapi_default(documented):
                        responses[status] = {
                            "description": description,
                            "content": {"application/json": {"schema": error_ref}},
                        }
        _add_bodies_read_by_hand(components, read_by_hand)
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _is_fastapi_default(response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")


def _add_bodies_read_by_hand(
    components: dict, read_by_hand: Mapping[type[BaseModel], Mapping[str, dict]]
) -> None:
    for model, amended in read_by_hand.items():
        component = components.setdefault(model.__name__, model.model_json_schema())
        for name, changes in amended.items():
            component["properties"][name].update(changes)
