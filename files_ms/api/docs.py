"""Swagger UI's page at /docs, with one more stylesheet and without an inline script.

The Authorize dialog of an OAuth2 password flow also shows client_id, client_secret and "Client
credentials location", which do nothing for LiftBit (it has no OAuth clients: a username and
password are the whole grant). Swagger UI has no option to hide them (swagger-api/swagger-ui#4448),
so a few CSS rules do. FastAPI's page starts Swagger UI from an inline <script>; it is served from
its own address instead, so that the site's CSP needs no 'unsafe-inline' for scripts (the web app
shares this origin: an injected inline script must never run there)."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

STATIC = "/static-offline-docs"  # where fastapi_offline serves Swagger UI's own files
EXTRA_CSS_URL = "/docs-liftbit.css"
INIT_JS_URL = "/docs-liftbit.js"
INLINE_SCRIPT = re.compile(r"<script>(?P<code>.*?)</script>", re.S)
# Each field of the dialog is a .wrapper row holding its label (for="client_id_password",
# "client_secret_password", "password_type") and its input, or, once authorised, its value.
EXTRA_CSS = """.auth-container .wrapper:has(> label[for^="client_id_"]),
.auth-container .wrapper:has(> label[for^="client_secret_"]),
.auth-container .wrapper:has(> label[for="password_type"]) { display: none; }
"""


def _is_docs(route: BaseRoute) -> bool:
    return isinstance(route, Route) and route.path == "/docs"


def install_docs(app: FastAPI) -> None:
    """Replace /docs (fastapi_offline's, same files, no CDN) with the page plus EXTRA_CSS."""
    app.router.routes[:] = [route for route in app.router.routes if not _is_docs(route)]

    def page(request: Request) -> tuple[str, str]:
        """The page's HTML, its inline script replaced by a reference to INIT_JS_URL, and that script."""
        root = request.scope.get("root_path", "")
        html = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            swagger_js_url=f"{root}{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        ).body
        text = bytes(html).decode()
        inline = INLINE_SCRIPT.search(text)
        assert inline is not None, "FastAPI's Swagger UI page starts with an inline script"
        text = text.replace(inline[0], f'<script src="{root}{INIT_JS_URL}"></script>', 1)
        text = text.replace(
            "</head>", f'<link type="text/css" rel="stylesheet" href="{root}{EXTRA_CSS_URL}">\n</head>', 1
        )
        return text, inline["code"]

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(page(request)[0])

    async def init_js(request: Request) -> Response:
        return Response(page(request)[1], media_type="text/javascript")

    async def extra_css() -> Response:
        return Response(EXTRA_CSS, media_type="text/css")

    app.add_api_route("/docs", docs, include_in_schema=False)
    app.add_api_route(EXTRA_CSS_URL, extra_css, include_in_schema=False)
    app.add_api_route(INIT_JS_URL, init_js, include_in_schema=False)
