"""The registry's refusals. The API layer maps each class to one gRPC status code, in one table."""

from __future__ import annotations


class RegistryError(Exception):
    """A refused operation. Nothing was changed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(RegistryError):
    pass


class NotFound(RegistryError):
    pass


class AlreadyExists(RegistryError):
    pass


class PermissionDenied(RegistryError):
    pass


class FailedPrecondition(RegistryError):
    pass


class ResourceExhausted(RegistryError):
    pass


class Unavailable(RegistryError):
    """The store, or this replica's view of it, cannot answer now: retry (on another replica, too)."""


class RevisionCompacted(FailedPrecondition):
    """The requested revision is no longer retained: re-list, then subscribe from the list's revision + 1."""

    def __init__(self, requested: int, compacted_revision: int) -> None:
        super().__init__(
            f"from_revision {requested} is compacted; the oldest retained revision is "
            f"{compacted_revision + 1}: list again and subscribe from its revision + 1",
            field="from_revision",
        )
        self.requested = requested
        self.compacted_revision = compacted_revision


class SubscriberOverflow(ResourceExhausted):
    """A subscriber fell more than its queue size behind and was cut off."""

    def __init__(self, last_revision: int, queue_size: int) -> None:
        super().__init__(
            f"subscriber fell more than event_queue_size={queue_size} events behind and was cut off; "
            f"resume from revision {last_revision + 1}"
        )
        self.last_revision = last_revision
