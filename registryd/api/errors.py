"""Every core refusal maps to one gRPC status, here and nowhere else, with google.rpc details a program
can act on (BadRequest field violations, ErrorInfo reasons)."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from registryd.core.commit import CommitFailed
from registryd.core.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RegistryError,
    ResourceExhausted,
    RevisionCompacted,
    SubscriberOverflow,
    Unavailable,
)

DOMAIN = "registryd.agentregistry.v1"

_CODES: list[tuple[type[Exception], grpc.StatusCode]] = [
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (CommitFailed, grpc.StatusCode.UNAVAILABLE),
]


# Codes whose refusals point at the request field at fault with a BadRequest field violation.
_FIELD_CODES = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)


def code_for(error: Exception) -> grpc.StatusCode:
    for error_type, code in _CODES:
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.INTERNAL


def to_status(error: RegistryError | CommitFailed) -> grpc.Status:
    code = code_for(error)
    message = error.message if isinstance(error, RegistryError) else f"store write failed: {error}"
    details: list[any_pb2.Any] = []
    if isinstance(error, RevisionCompacted):
        details.append(
            _pack(
                error_details_pb2.ErrorInfo(
                    reason="REVISION_COMPACTED",
                    domain=DOMAIN,
                    metadata={
                        "compacted_revision": str(error.compacted_revision),
                        "oldest_revision": str(error.compacted_revision + 1),
                    },
                )
            )
        )
    elif isinstance(error, SubscriberOverflow):
        details.append(
            _pack(
                error_details_pb2.ErrorInfo(
                    reason="SUBSCRIBER_OVERFLOW",
                    domain=DOMAIN,
                    metadata={"last_revision": str(error.last_revision)},
                )
            )
        )
    elif code in _FIELD_CODES and isinstance(error, RegistryError) and error.field:
        violation = error_details_pb2.BadRequest.FieldViolation(field=error.field, description=message)
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[violation])))
    return rpc_status.to_status(
        status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=details)
    )


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


async def abort(context: grpc.aio.ServicerContext, error: RegistryError | CommitFailed) -> None:
    """End the call with the mapped status (raises, as context.abort does)."""
    await context.abort_with_status(to_status(error))


def set_status(context: grpc.aio.ServicerContext, error: RegistryError | CommitFailed) -> None:
    """Set the mapped status for a stream handler that ends by returning (after a cancellation)."""
    status = to_status(error)
    context.set_code(status.code)
    context.set_details(status.details)
    context.set_trailing_metadata(status.trailing_metadata)
