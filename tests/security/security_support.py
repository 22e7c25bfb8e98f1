"""Helpers for the security tests: an in-process daemon with any configuration, and token files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import grpc
from agentregistry.v1 import registry_pb2 as pb

from registryd.auth import Role, new_token, token_entry
from registryd.config import Config
from registryd.server import Daemon

BASE = Config(listen="127.0.0.1:0", store="memory", log_level="warning", shutdown_grace=0.5)


@asynccontextmanager
async def running(**overrides: object) -> AsyncIterator[Daemon]:
    """A daemon on a free loopback port for the length of the block (TLS or not, so no channel here)."""
    daemon = Daemon(replace(BASE, **overrides))  # type: ignore[arg-type]
    await daemon.start()
    try:
        yield daemon
    finally:
        await daemon.stop()


def write_tokens(path: Path, holders: dict[str, tuple[Role, tuple[str, ...]]]) -> dict[str, str]:
    """Write a token file for `holders` (name -> role, owned runtime globs); returns name -> token."""
    tokens: dict[str, str] = {}
    entries: list[str] = []
    for name, (role, runtimes) in holders.items():
        tokens[name], digest = new_token()
        entries.append(token_entry(name, role, digest, runtimes))
    path.write_text("\n".join(entries))
    return tokens


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class RefusedStreamMessage(grpc.RpcError):
    """A heartbeat stream ack carrying an error (the stream stays open), seen as the refusal a unary call
    would end with, so the same checks apply to both."""

    def __init__(self, ack: pb.HeartbeatStreamResponse) -> None:
        super().__init__(ack.error.message)
        self.ack = ack

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode[self.ack.error.code]

    def details(self) -> str:
        return self.ack.error.message


def raise_if_refused(ack: pb.HeartbeatStreamResponse) -> pb.HeartbeatStreamResponse:
    if ack.HasField("error"):
        raise RefusedStreamMessage(ack)
    return ack
