"""Interactive API docs from vendored files: Swagger UI 5.35.0 at ``/docs``, ReDoc 2.5.0 at
``/redoc`` (``app/web/static/vendor/``, with their licences).

FastAPI's defaults load both from a CDN, unpinned and without integrity checks, and
initialise them with inline scripts. Here nothing leaves the machine (docs work offline),
the versions are those in the repository, and the start-up code is a static file, so the
pages run under the same Content-Security-Policy as the service's own pages.
"""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

SWAGGER = "/static/vendor/swagger-ui-5.35.0"
REDOC = "/static/vendor/redoc-2.5.0"

SWAGGER_PAGE = f"""<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} — Swagger UI</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{{openapi_url}}"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""

REDOC_PAGE = f"""<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} — ReDoc</title>
</head>
<body>
<redoc spec-url="{{openapi_url}}"></redoc>
<script src="{REDOC}/redoc.standalone.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Call on an app created with ``docs_url=None, redoc_url=None``."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE.format(title=app.title, openapi_url=openapi_url))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(REDOC_PAGE.format(title=app.title, openapi_url=openapi_url))
