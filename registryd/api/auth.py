"""Bearer-token authentication and role checks for RegistryService calls.

The interceptor turns the `authorization: Bearer <token>` metadata into a Principal and refuses a call
the role does not allow (UNAUTHENTICATED / PERMISSION_DENIED). Which runtime a call acts for depends on
registry state (an agent's actual owner), so the servicer asks `authorize_runtime` at the point it knows
the runtime. Health and reflection stay open so probes and `grpcurl list` work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import grpc
import structlog

from registryd.auth import Principal, TokenTable, bearer_token
from registryd.core.errors import PermissionDenied

log = structlog.get_logger("registryd.auth")

# Set by the interceptor in the task that then runs the handler.
_principal: ContextVar[Principal | None] = ContextVar("registryd_principal", default=None)


def principal_name() -> str | None:
    """The name of the token the current call presented (None without auth)."""
    principal = _principal.get()
    return None if principal is None else principal.name


class Authorizer(grpc.aio.ServerInterceptor):
    def __init__(self, tokens: TokenTable, service: str) -> None:
        self.tokens = tokens
        self._prefix = f"/{service}/"

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        if not details.method.startswith(self._prefix):
            return await continuation(details)  # health and reflection are open
        method = details.method[len(self._prefix) :]
        principal = self._authenticate(details.invocation_metadata)
        if principal is None:
            return _refusal(
                await continuation(details),
                grpc.StatusCode.UNAUTHENTICATED,
                "a valid bearer token is required: send metadata 'authorization: Bearer <token>'",
            )
        if not principal.may_call(method):
            log.info("call refused", principal=principal.name, role=principal.role.name, method=method)
            return _refusal(
                await continuation(details),
                grpc.StatusCode.PERMISSION_DENIED,
                f"token {principal.name!r} has role {principal.role.name.lower()}, which may not call {method}",
            )
        _principal.set(principal)
        return await continuation(details)

    def _authenticate(self, metadata: Any) -> Principal | None:
        for key, value in metadata or ():
            token = bearer_token(value) if key == "authorization" else None
            if token is not None:
                return self.tokens.authenticate(token)
        return None

    def authorize_runtime(self, runtime_id: str) -> None:
        """Refuse unless the caller may change agents of `runtime_id` (their actual owner)."""
        principal = _principal.get()
        if principal is None or not principal.owns(runtime_id):
            name = principal.name if principal else "(none)"
            raise PermissionDenied(
                f"token {name!r} does not own runtime {runtime_id[:128]!r}", field="runtime_id"
            )


def _refusal(handler: grpc.RpcMethodHandler | None, code: grpc.StatusCode, message: str) -> Any:
    """A handler of the same kind as `handler` that ends the call with `code` and does nothing else."""

    async def refuse(request: object, context: grpc.aio.ServicerContext) -> None:
        await context.abort(code, message)

    if handler is None:  # an unknown method: UNIMPLEMENTED would tell an unauthenticated caller too much
        return grpc.unary_unary_rpc_method_handler(refuse)
    kinds = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    # No deserializer: a refused request is never parsed.
    return kinds[(handler.request_streaming, handler.response_streaming)](refuse)
