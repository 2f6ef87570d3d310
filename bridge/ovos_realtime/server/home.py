"""The home page at `/`: what is running and where its doors are, for a person with a browser.

The page and its static files are public (they hold no secrets); what it shows comes from
`/status`, which needs the API key when one is set (the page asks for it). The browser
playground will grow from this page and folder: static/ is served as it is, with no build step
and nothing from outside the server.
"""

import importlib.metadata
import logging
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ovos_realtime.server.home_status import status

LOG = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

# Public without the key: the page, its own files and the README. /status is not among them.
PUBLIC_PATHS = frozenset(
    {"/", "/readme.md"} | {f"/static/{path.name}" for path in STATIC.iterdir() if path.is_file()}
)

# Only this server's own files and connections; nothing from another site, no inline script.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def index(_request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_HEADERS)


async def status_json(request: Request) -> JSONResponse:
    return JSONResponse(status(request.app, str(request.base_url)), headers=_HEADERS)


@cache
def readme_text() -> str:
    """The README of this checkout, or the one in the installed package's metadata."""
    source = Path(__file__).resolve().parents[3] / "README.md"
    if source.is_file() and source.read_text().startswith("# ovos-realtime"):
        return source.read_text()
    try:
        return importlib.metadata.metadata("ovos-realtime").get("Description") or ""
    except importlib.metadata.PackageNotFoundError:
        LOG.warning("no README: neither a source checkout nor installed package metadata")
        return ""


async def readme(_request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        readme_text(), media_type="text/markdown; charset=utf-8", headers=_HEADERS
    )


def home_routes() -> list[BaseRoute]:
    return [
        Route("/", index, methods=["GET"]),
        Route("/status", status_json, methods=["GET"]),
        Route("/readme.md", readme, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
