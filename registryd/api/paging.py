"""Opaque page tokens (AIP-158): where the next page starts, bound to the filters that made it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable

from registryd.core.errors import InvalidArgument

# Far above any token issued (two ids and a few statuses), far below what could cost time to decode.
MAX_PAGE_TOKEN_LENGTH = 16_384


def _filters(runtime_id: str, statuses: Iterable[int], agent_filter: object) -> dict[str, object]:
    filters: dict[str, object] = {"runtime_id": runtime_id, "statuses": sorted(int(s) for s in statuses)}
    if agent_filter:
        filters["filter"] = hashlib.sha256(repr(agent_filter).encode()).hexdigest()[:24]
    return filters


def encode_page_token(
    after: str, runtime_id: str, statuses: Iterable[int], agent_filter: object = None
) -> str:
    payload = {"after": after, **_filters(runtime_id, statuses, agent_filter)}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_page_token(
    token: str, runtime_id: str, statuses: Iterable[int], agent_filter: object = None
) -> str:
    """The agent_id to continue after; empty for the first page."""
    if not token:
        return ""
    if len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise InvalidArgument(
            f"page_token is {len(token)} characters; no token this server issues exceeds {MAX_PAGE_TOKEN_LENGTH}",
            field="page_token",
        )
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = payload.pop("after")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, binascii.Error):
        raise InvalidArgument("page_token is not a token this server issued", field="page_token") from None
    if payload != _filters(runtime_id, statuses, agent_filter) or not isinstance(after, str):
        raise InvalidArgument(
            "page_token was issued for other filters; repeat the first request's runtime_id, statuses and filter",
            field="page_token",
        )
    return after
