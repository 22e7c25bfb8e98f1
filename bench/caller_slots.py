"""Issue 11 item 4: can one reader token that holds every Subscribe slot lock out another reader? An
in-process daemon with tokens and max_subscribers=200 (the per-caller limit at its default where the code
has one); the hog opens 200 subscriptions, then the victim tries one. `python -m bench.caller_slots`"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

from registryd.auth import Role, new_token, token_entry
from registryd.config import Config
from registryd.core.validation import Limits
from registryd.server import Daemon

SLOTS = 200


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tokens.toml"
        (hog, hog_digest), (victim, victim_digest) = new_token(), new_token()
        path.write_text(
            token_entry("hog", Role.READER, hog_digest, ())
            + token_entry("victim", Role.READER, victim_digest, ())
        )
        limits = {"max_subscribers": SLOTS}
        if "max_subscribers_per_caller" in {f.name for f in fields(Limits)}:
            limits["max_subscribers_per_caller"] = SLOTS // 2
        config = Config(listen="127.0.0.1:0", store="memory", log_level="warning", shutdown_grace=0.5)
        daemon = Daemon(replace(config, auth_tokens=str(path), limits=Limits(**limits)))
        await daemon.start()
        try:
            async with grpc.aio.insecure_channel(daemon.address) as channel:
                stub = pb_grpc.RegistryServiceStub(channel)
                calls = [stub.Subscribe(pb.SubscribeRequest(), metadata=_bearer(hog)) for _ in range(SLOTS)]
                hogged = Counter([await _outcome(call) for call in calls])
                attempt = stub.Subscribe(pb.SubscribeRequest(), metadata=_bearer(victim))
                print(
                    f"limits {limits}: hog's {SLOTS} subscriptions {dict(hogged)}; victim: {await _outcome(attempt)}"
                )
                for call in [*calls, attempt]:
                    call.cancel()
        finally:
            await daemon.stop()


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def _outcome(call: grpc.aio.UnaryStreamCall) -> str:
    try:
        await asyncio.wait_for(call.read(), 10)
    except grpc.aio.AioRpcError as error:
        return f"refused {error.code().name}"
    return "served"


if __name__ == "__main__":
    asyncio.run(main())
