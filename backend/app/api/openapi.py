"""The OpenAPI document the service publishes, made to match what the server does."""

from types import MappingProxyType

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.answering.schemas import ProcessRequest
from app.core.config import Settings

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


def describe_api(app: FastAPI, settings: Settings) -> None:
    """The published schema tells the truth: every operation lists the common error answers
    with the shape we send, and limits that come from the settings are stated as they are
    configured."""

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
        # ``process`` reads its JSON body by hand (it also takes a recording): its model is
        # referenced from the operation, not collected by FastAPI.
        components.setdefault("ProcessRequest", ProcessRequest.model_json_schema())
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        _state_configured_limits(components, settings)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _is_fastapi_default(response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")


def _state_configured_limits(components: dict, settings: Settings) -> None:
    """``MAX_MESSAGE_LENGTH`` is checked by the pipeline (its message names the limit in
    force); the schema states the same number instead of the parser's hard cap."""
    message = components.get("ProcessRequest", {}).get("properties", {}).get("message")
    if message is not None:
        message["maxLength"] = settings.max_message_length
