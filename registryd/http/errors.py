"""Every refusal over HTTP maps to one status, from the same gRPC code the gRPC API would answer with
(the mapping of google.rpc codes to HTTP that Google's APIs use), in one JSON shape:
{"error": {"code": 404, "status": "NOT_FOUND", "message": "...", "field": "agent_id"}}."""

from __future__ import annotations

import grpc
from aiohttp import web

from registryd.api.errors import code_for
from registryd.core.commit import CommitFailed
from registryd.core.errors import RegistryError, RevisionCompacted

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
}


def error_response(
    code: grpc.StatusCode,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    http_status: int | None = None,
) -> web.Response:
    status = http_status or HTTP_STATUS.get(code, 500)
    body: dict[str, object] = {"code": status, "status": code.name, "message": message}
    if field:
        body["field"] = field
    return web.json_response({"error": body}, status=status, headers=headers)


def refusal(error: RegistryError | CommitFailed) -> web.Response:
    if isinstance(error, RegistryError):
        # A compacted resume point is gone for good: 410 tells an event-stream client to list again.
        gone = 410 if isinstance(error, RevisionCompacted) else None
        return error_response(code_for(error), error.message, error.field, http_status=gone)
    return error_response(grpc.StatusCode.UNAVAILABLE, f"store write failed: {error}")
