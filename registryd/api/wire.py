"""Registers the servicer so that a request which is not a valid message (corrupt wire format, invalid
UTF-8 in a string field) is answered INVALID_ARGUMENT naming the message type, instead of gRPC's UNKNOWN
with a traceback logged for every such call.

The deserializer hands such a request over as a MalformedRequest, and the servicer passes every request
through `parsed`. (Wrapping the handlers instead would put a generator between gRPC and each response
stream, and a cancellation would then no longer reach the servicer's own generator.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

from registryd.core.errors import InvalidArgument


class MalformedRequest:
    """Stands in for a request that did not parse; the handler refuses it."""

    __slots__ = ("error",)

    def __init__(self, error: InvalidArgument) -> None:
        self.error = error


class _Capture:
    """Collects the generated code's method handlers instead of registering them."""

    handlers: dict[str, grpc.RpcMethodHandler]

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        pass

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        self.service = service
        self.handlers = handlers


def add_servicer(servicer: pb_grpc.RegistryServiceServicer, server: grpc.aio.Server) -> None:
    capture = _Capture()
    pb_grpc.add_RegistryServiceServicer_to_server(servicer, capture)
    handlers = {name: _guarded(handler) for name, handler in capture.handlers.items()}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(capture.service, handlers),))
    server.add_registered_method_handlers(capture.service, handlers)


def _tolerant(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    type_name = deserialize.__self__.DESCRIPTOR.full_name  # type: ignore[attr-defined]

    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as error:  # whatever the parser raises, the bytes were the client's
            return MalformedRequest(InvalidArgument(f"the request is not a valid {type_name}: {error}"))

    return parse


def parsed(request: Any) -> Any:
    """The request, or the refusal of one that did not parse; every servicer method starts here."""
    if isinstance(request, MalformedRequest):
        raise request.error
    return request


def _guarded(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """The same handler with a deserializer that never raises (the servicer refuses what it returns)."""
    kinds = {
        (False, False): (grpc.unary_unary_rpc_method_handler, handler.unary_unary),
        (False, True): (grpc.unary_stream_rpc_method_handler, handler.unary_stream),
        (True, False): (grpc.stream_unary_rpc_method_handler, handler.stream_unary),
        (True, True): (grpc.stream_stream_rpc_method_handler, handler.stream_stream),
    }
    make, behaviour = kinds[(handler.request_streaming, handler.response_streaming)]
    return make(behaviour, _tolerant(handler.request_deserializer), handler.response_serializer)
