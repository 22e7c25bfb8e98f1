"""An interceptor that times every RPC by method and final status code.

A stream's duration is its lifetime, so heartbeat streams and subscriptions land in the long buckets.
Labels come from a fixed set: calls to methods the daemon does not serve share one "unknown" series, so
what callers send cannot grow /metrics (3,000 made-up names once made 3,000 series).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2
from google.protobuf.descriptor import FileDescriptor
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2
from prometheus_client import CollectorRegistry, Histogram

# Unary calls take milliseconds; streams live for minutes to hours.
BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
    60.0,
    600.0,
    3600.0,
)

Observe = Callable[[str, float], None]
UNKNOWN = ("unknown", "unknown")


def _served_methods(*files: FileDescriptor) -> dict[str, tuple[str, str]]:
    """ "/package.Service/Method" -> (service, method), for every method the daemon serves."""
    return {
        f"/{service.full_name}/{method.name}": (service.full_name, method.name)
        for file in files
        for service in file.services_by_name.values()
        for method in service.methods
    }


SERVED = _served_methods(registry_pb2.DESCRIPTOR, health_pb2.DESCRIPTOR, reflection_pb2.DESCRIPTOR)


class RpcMetricsInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            "registryd_rpc_duration_seconds",
            "Time from the start of an RPC to its status (a stream's whole lifetime), by method and code.",
            ("service", "method", "code"),
            registry=registry,
            buckets=BUCKETS,
        )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        service, method = SERVED.get(handler_call_details.method, UNKNOWN)

        def observe(code: str, seconds: float) -> None:
            self.duration.labels(service, method, code).observe(seconds)

        for kind, make in _HANDLER_FACTORIES.items():
            behavior = getattr(handler, kind)
            if behavior is not None:
                return make(
                    _timed(behavior, observe),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler


_HANDLER_FACTORIES: dict[str, Callable[..., grpc.RpcMethodHandler]] = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


def _timed(behavior: Callable[..., Any], observe: Observe) -> Callable[..., Any]:
    """Wrap a handler, keeping its shape: grpc.aio treats async generators and coroutines differently."""
    if inspect.isasyncgenfunction(behavior):

        async def timed_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with _timing(context, observe):
                async for response in behavior(request, context):
                    yield response

        return timed_stream

    async def timed_call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        with _timing(context, observe):
            return await behavior(request, context)

    return timed_call


@contextmanager
def _timing(context: grpc.aio.ServicerContext, observe: Observe) -> Iterator[None]:
    """Observe the call's duration and final code, however it ends."""
    start = time.perf_counter()
    ending = "OK"
    try:
        yield
    except (asyncio.CancelledError, GeneratorExit):
        ending = "CANCELLED"
        raise
    except BaseException:
        ending = "UNKNOWN"
        raise
    finally:
        observe(_final_code(context, ending), time.perf_counter() - start)


def _final_code(context: grpc.aio.ServicerContext, default: str) -> str:
    """The status the handler set (abort, set_code), or what its ending implies."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    return default
