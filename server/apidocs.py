"""The API's documentation page at /schema: Swagger UI served by this service, no script from elsewhere.

Litestar's SwaggerRenderPlugin loads Swagger UI from a CDN and starts it with an inline script, which
the pages' Content-Security-Policy forbids. Here the page loads the copy of Swagger UI that the
swagger-ui-bundle package ships, and a start-up script of our own, all from /schema/swagger/.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Request, Response, get
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.router import Router
from swagger_ui_bundle import swagger_ui_path

from server.errors import NotFound

ASSETS = "/schema/swagger"
PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Zesummen API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/start.js"></script>
</body>
</html>
""".encode()
START = b"""window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/schema/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
"""
# the files the page loads, by name, with their media types
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "start.js": "text/javascript",
}
WEEK = 7 * 24 * 3600


@cache
def asset(name: str) -> bytes:
    """One file of the page, read once."""
    return START if name == "start.js" else (swagger_ui_path / name).read_bytes()


@get("/swagger/{name:str}", include_in_schema=False, sync_to_thread=False)
def swagger_asset(name: str) -> Response[bytes]:
    """Swagger UI's script and stylesheet, and the script that starts it."""
    if name not in FILES:
        raise NotFound("No such file.")
    return Response(asset(name), media_type=FILES[name], headers={"Cache-Control": f"public, max-age={WEEK}"})


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI from this service's own files."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return PAGE

    def receive_router(self, router: Router) -> None:
        router.register(swagger_asset)
