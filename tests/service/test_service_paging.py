"""ListAgents: filters, ordering and AIP-158 page tokens."""

from __future__ import annotations

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from service_support import bad_request_fields, register


async def list_all(stub, page_size: int, **filters: object) -> tuple[list[str], int]:
    """Follow next_page_token to the end; returns the ids and how many pages it took."""
    ids: list[str] = []
    token, pages = "", 0
    while True:
        page = await stub.ListAgents(pb.ListAgentsRequest(page_size=page_size, page_token=token, **filters))
        ids += [a.agent_id for a in page.agents]
        pages += 1
        token = page.next_page_token
        if not token:
            return ids, pages


async def test_pages_cover_every_agent_once_in_id_order(daemon):
    for i in range(25):
        await register(daemon.stub, f"rt{i % 3}", f"agent-{i:02d}")
    ids, pages = await list_all(daemon.stub, page_size=10)
    assert ids == [f"agent-{i:02d}" for i in range(25)] and pages == 3


async def test_pages_apply_runtime_and_status_filters(daemon):
    for i in range(12):
        await register(daemon.stub, f"rt{i % 2}", f"agent-{i:02d}")
    for i in (1, 3, 5):
        await daemon.stub.UpdateAgentStatus(
            pb.UpdateAgentStatusRequest(agent_id=f"agent-{i:02d}", status=pb.AGENT_STATUS_OFFLINE)
        )
    ids, _ = await list_all(daemon.stub, page_size=2, runtime_id="rt1", statuses=[pb.AGENT_STATUS_ACTIVE])
    assert ids == ["agent-07", "agent-09", "agent-11"]


async def test_an_exactly_full_last_page_has_no_next_token(daemon):
    for i in range(4):
        await register(daemon.stub, "rt", f"a{i}")
    page = await daemon.stub.ListAgents(pb.ListAgentsRequest(page_size=4))
    assert len(page.agents) == 4 and page.next_page_token == ""


async def test_page_reflects_the_current_revision(daemon):
    response = await register(daemon.stub, "rt", "a1")
    page = await daemon.stub.ListAgents(pb.ListAgentsRequest())
    assert page.revision == response.revision


async def test_token_reused_with_other_filters_is_invalid(daemon):
    for i in range(3):
        await register(daemon.stub, "rt", f"a{i}")
    first = await daemon.stub.ListAgents(pb.ListAgentsRequest(page_size=1, runtime_id="rt"))
    for changed in (
        pb.ListAgentsRequest(page_size=1, page_token=first.next_page_token, runtime_id="other"),
        pb.ListAgentsRequest(page_size=1, page_token=first.next_page_token),
        pb.ListAgentsRequest(
            page_size=1, page_token=first.next_page_token, runtime_id="rt", statuses=[pb.AGENT_STATUS_ACTIVE]
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await daemon.stub.ListAgents(changed)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request_fields(error.value) == ["page_token"] and "filters" in error.value.details()


@pytest.mark.parametrize("token", ["garbage!", "bm90IGpzb24=", "W10="])
async def test_token_the_server_did_not_issue_is_invalid(daemon, token):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await daemon.stub.ListAgents(pb.ListAgentsRequest(page_token=token))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(error.value) == ["page_token"]


async def test_negative_page_size_is_invalid(daemon):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await daemon.stub.ListAgents(pb.ListAgentsRequest(page_size=-5))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(error.value) == ["page_size"]


async def test_list_runtimes_pages_like_list_agents(daemon):
    for i in range(7):
        await register(daemon.stub, f"rt-{i}", f"agent-{i}")
    seen, token, pages = [], "", 0
    while True:
        page = await daemon.stub.ListRuntimes(pb.ListRuntimesRequest(page_size=3, page_token=token))
        seen += [(r.runtime_id, list(r.agent_ids)) for r in page.runtimes]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == [(f"rt-{i}", [f"agent-{i}"]) for i in range(7)] and pages == 3
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await daemon.stub.ListRuntimes(pb.ListRuntimesRequest(page_token="not-a-token"))
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
