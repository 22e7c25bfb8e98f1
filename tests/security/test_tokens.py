"""The token file, the new-token helper, and what stays open when tokens are required."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from security_support import running, write_tokens

from registryd import auth
from registryd.auth import Principal, Role, TokenFileError, TokenTable, hash_token, new_token
from registryd.server import SERVICE_NAME, DaemonError

DIGEST = "ab" * 32


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({}, "expected one or more"),
        ({"token": [{"name": "a", "role": "reader", "sha256": DIGEST}], "extra": 1}, "nothing else"),
        ({"token": [{"name": "a", "role": "root", "sha256": DIGEST}]}, "role must be one of"),
        ({"token": [{"name": "a", "role": "reader", "sha256": "s3cret-token"}]}, "never the token"),
        ({"token": [{"name": "", "role": "reader", "sha256": DIGEST}]}, "name must be"),
        ({"token": [{"name": "a", "role": "runtime", "sha256": DIGEST}]}, "runtimes must list"),
        (
            {"token": [{"name": "a", "role": "reader", "sha256": DIGEST, "runtimes": ["x"]}]},
            "runtime role only",
        ),
        ({"token": [{"name": "a", "role": "reader", "sha256": DIGEST, "token": "x"}]}, "unknown keys"),
        (
            {
                "token": [
                    {"name": "a", "role": "reader", "sha256": DIGEST},
                    {"name": "b", "role": "admin", "sha256": DIGEST},
                ]
            },
            "same sha256",
        ),
    ],
)
def test_token_file_mistakes_are_refused_with_a_reason(document, complaint):
    with pytest.raises(TokenFileError, match=complaint):
        TokenTable.parse(document)


def test_a_token_authenticates_as_its_entry_and_nothing_else_does():
    token, digest = new_token()
    table = TokenTable.parse(
        {"token": [{"name": "w", "role": "runtime", "sha256": digest, "runtimes": ["eu-*"]}]}
    )
    assert table.authenticate(token) == Principal("w", Role.RUNTIME, ("eu-*",))
    assert table.authenticate(token + "x") is None
    assert table.authenticate(digest) is None  # knowing the file's hash is not knowing the token
    assert hash_token(token).hex() == digest


def test_runtime_ownership_is_by_glob_and_admin_owns_everything():
    worker = Principal("w", Role.RUNTIME, ("eu-*", "batch-[0-9]"))
    assert worker.owns("eu-1") and worker.owns("batch-7")
    assert not worker.owns("us-1") and not worker.owns("batch-10") and not worker.owns("EU-1")
    assert Principal("r", Role.READER).owns("eu-1") is False
    assert Principal("o", Role.ADMIN).owns("anything") is True


def test_new_token_prints_the_token_and_an_entry_that_accepts_it(capsys):
    assert auth.main(["new-token", "--name", "worker-eu", "--role", "runtime", "--runtime", "eu-*"]) == 0
    token, entry = capsys.readouterr().out.split("\n", 1)
    assert token not in entry
    table = TokenTable.parse(tomllib.loads(entry))
    assert table.authenticate(token) == Principal("worker-eu", Role.RUNTIME, ("eu-*",))


def test_new_token_appends_to_a_token_file(tmp_path):
    path = tmp_path / "tokens.toml"
    first = subprocess.run(
        [sys.executable, "-m", "registryd.auth", "new-token", "--name", "ops", "--role", "admin", "--append", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    auth.main(["new-token", "--name", "reader", "--role", "reader", "--append", str(path)])
    table = TokenTable.load(path)
    assert len(table) == 2
    assert table.authenticate(first.stdout.strip()) == Principal("ops", Role.ADMIN)
    assert first.stdout.strip() not in path.read_text()


def test_new_token_wants_runtimes_for_the_runtime_role_only():
    with pytest.raises(SystemExit):
        auth.main(["new-token", "--name", "w", "--role", "runtime"])
    with pytest.raises(SystemExit):
        auth.main(["new-token", "--name", "r", "--role", "reader", "--runtime", "x"])


async def test_a_broken_token_file_stops_the_daemon(tmp_path):
    path = tmp_path / "tokens.toml"
    path.write_text('[[token]]\nname = "a"\nrole = "reader"\nsha256 = "plaintext"\n')
    with pytest.raises(DaemonError, match="never the token"):
        async with running(auth_tokens=str(path)):
            pass


async def test_health_and_reflection_stay_open_when_tokens_are_required(tmp_path):
    path = tmp_path / "tokens.toml"
    write_tokens(path, {"ops": (Role.ADMIN, ())})
    async with running(auth_tokens=str(path)) as daemon, grpc.aio.insecure_channel(daemon.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for response in reflection.ServerReflectionInfo(iter([request]), timeout=5):
            assert SERVICE_NAME in {s.name for s in response.list_services_response.service}
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.RegistryServiceStub(channel).GetStats(pb.GetStatsRequest(), timeout=5)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
