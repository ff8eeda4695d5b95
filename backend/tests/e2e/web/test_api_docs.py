"""The interactive API docs render offline, from vendored files, under the pages' CSP."""

from tests.e2e.web.conftest import wait_for_expression


def test_swagger_ui_renders_the_api_from_vendored_files(serve, page, settings):
    server = serve(settings)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/docs")
    wait_for_expression(page, "document.querySelectorAll('.opblock').length > 5")
    assert "/api/voice/process" in page.inner_text("#swagger-ui")
    assert all(url.startswith(server.url) for url in requested), requested


def test_redoc_renders_the_api_from_vendored_files(serve, page, settings):
    server = serve(settings)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/redoc")
    wait_for_expression(page, "document.body.innerText.includes('Ответить на вопрос жильца')", 30)
    assert all(url.startswith((server.url, "blob:", "data:")) for url in requested), requested


def test_the_docs_pages_carry_the_content_security_policy(client):
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "cdn" not in response.text.lower()
