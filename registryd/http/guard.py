"""Who may do what over HTTP, with the gRPC API's tokens and roles.

With a token table, every data request needs `Authorization: Bearer <token>`: reads need the reader
role, changes the admin role. Tokens travel only in that header, never in a cookie or a URL, so a page
on another site cannot make the browser send one (no CSRF), and none lands in an access log. The console's
own files carry no data and stay open, so a browser can load them and ask for a token.

A change must also come as JSON from this origin (a cross-site form cannot send JSON without a CORS
preflight, which this server never approves); that protects a daemon run without tokens as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
import structlog
from aiohttp import web

from registryd.auth import Principal, Role, TokenTable, bearer_token, caller_name
from registryd.http.errors import error_response

log = structlog.get_logger("registryd.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OPEN_PREFIXES = ("/static/",)
OPEN_PATHS = frozenset({"/", "/favicon.ico"})
READ_METHODS = frozenset({"GET", "HEAD"})
PRINCIPAL = web.RequestKey("principal", Principal)


def principal_of(request: web.Request) -> Principal | None:
    """The caller; None when the daemon runs without tokens."""
    return request.get(PRINCIPAL)


def caller_of(request: web.Request) -> str:
    """The caller whose slots an event stream takes (registryd.auth.caller_name)."""
    transport = request.transport
    peer_cert = transport.get_extra_info("peercert") if transport is not None else None
    names = [
        value for rdn in (peer_cert or {}).get("subject", ()) for key, value in rdn if key == "commonName"
    ]
    return caller_name(principal_of(request), ",".join(names), request.remote or "")


def guard(tokens: TokenTable | None) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES):
            return await handler(request)
        changes = request.method not in READ_METHODS
        if changes:
            refused = _cross_site(request)
            if refused is not None:
                return refused
        if tokens is not None:
            token = bearer_token(request.headers.get("Authorization"))
            principal = tokens.authenticate(token) if token is not None else None
            if principal is None:
                return error_response(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "a valid bearer token is required: send the header 'Authorization: Bearer <token>'",
                    headers={"WWW-Authenticate": 'Bearer realm="registryd"'},
                )
            needed = Role.ADMIN if changes else Role.READER
            if principal.role < needed:
                log.info("http request refused", principal=principal.name, path=request.path)
                return error_response(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"token {principal.name!r} has role {principal.role.name.lower()}; "
                    f"{request.method} {request.path} needs {needed.name.lower()}",
                )
            request[PRINCIPAL] = principal
        return await handler(request)

    return middleware


def _cross_site(request: web.Request) -> web.Response | None:
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return error_response(
            grpc.StatusCode.PERMISSION_DENIED, f"changes are accepted from this origin only (got {origin!r})"
        )
    if request.content_type != "application/json":
        return error_response(
            grpc.StatusCode.INVALID_ARGUMENT,
            "send changes with Content-Type: application/json (a body of {} when there is nothing to say)",
            http_status=415,
        )
    return None
