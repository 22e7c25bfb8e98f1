"""The HTTP listener (--http-listen): routes, security headers, the console's files and /metrics, served by
aiohttp in the daemon's own event loop with the daemon's TLS settings."""

from __future__ import annotations

import ssl
from importlib.resources import files
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from registryd.auth import TokenTable
from registryd.core.registry import Registry
from registryd.http import api
from registryd.http.guard import Handler, guard
from registryd.http.history import StatusHistory
from registryd.http.stream import BOOKMARK_INTERVAL, event_stream

STATIC = Path(str(files("registryd.http") / "static"))
HISTORY = web.AppKey("history", StatusHistory)
METRICS = web.AppKey("metrics", CollectorRegistry)

# Nothing but this origin's own files run or load: card texts that slipped into markup could not run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:  # 404 and 405 from the router
        response = error
    if not response.prepared:  # an event stream sent its headers already
        response.headers.update(SECURITY_HEADERS)
    return response


async def console(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS])  # read on the loop: one consistent registry snapshot
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def history(request: web.Request) -> web.Response:
    return web.json_response(
        {"interval": request.app[HISTORY].interval, "samples": request.app[HISTORY].samples()}
    )


def make_app(
    registry: Registry,
    tokens: TokenTable | None,
    bookmark_interval: float,
    collectors: CollectorRegistry | None,
    status_history: StatusHistory,
) -> web.Application:
    app = web.Application(middlewares=[security_headers, guard(tokens)], client_max_size=64 * 1024)
    app[api.REGISTRY] = registry
    app[BOOKMARK_INTERVAL] = bookmark_interval
    app[HISTORY] = status_history
    v1 = "/api/v1"
    app.router.add_get("/", console)
    app.router.add_static("/static/", STATIC)
    app.router.add_get(f"{v1}/whoami", api.whoami)
    app.router.add_get(f"{v1}/stats", api.stats)
    app.router.add_get(f"{v1}/stats/history", history)
    app.router.add_get(f"{v1}/agents", api.list_agents)
    app.router.add_get(f"{v1}/find", api.find_agents)
    app.router.add_get(f"{v1}/agents/{{agent_id}}", api.get_agent)
    app.router.add_get(f"{v1}/agents/{{agent_id}}/events", api.events)
    app.router.add_post(f"{v1}/agents/{{agent_id}}/status", api.set_status)
    app.router.add_delete(f"{v1}/agents/{{agent_id}}", api.deregister)
    app.router.add_get(f"{v1}/runtimes", api.list_runtimes)
    app.router.add_post(f"{v1}/runtimes/{{runtime_id}}/drain", api.drain)
    app.router.add_get(f"{v1}/events", api.events)
    app.router.add_get(f"{v1}/events/stream", event_stream)
    app.router.add_get("/agents/{agent_id}/.well-known/agent-card.json", api.agent_card)
    if collectors is not None:
        app[METRICS] = collectors
        app.router.add_get("/metrics", metrics)
    return app


class HttpServer:
    def __init__(
        self,
        registry: Registry,
        tokens: TokenTable | None,
        bookmark_interval: float,
        collectors: CollectorRegistry | None,
        shutdown_grace: float,
    ) -> None:
        self.history = StatusHistory(registry)
        self.app = make_app(registry, tokens, bookmark_interval, collectors, self.history)
        self._runner = web.AppRunner(
            self.app, handle_signals=False, access_log=None, shutdown_timeout=shutdown_grace
        )

    async def start(self, listen: str, ssl_context: ssl.SSLContext | None) -> str:
        """Serve on host:port (port 0 picks one); returns the console's URL. Raises OSError."""
        host, _, port = listen.rpartition(":")
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, host.strip("[]"), int(port), ssl_context=ssl_context, reuse_port=False
        )
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        self.history.start()
        bound = self._runner.addresses[0][1]
        return f"{'https' if ssl_context else 'http'}://{host}:{bound}/"

    async def stop(self) -> None:
        await self.history.stop()
        await self._runner.cleanup()
