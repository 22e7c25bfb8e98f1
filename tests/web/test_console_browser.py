"""The web console in a real headless Chromium against a real daemon on loopback: live rows, live status
changes, filters and search, escaping of untrusted card texts, the token prompt and operator actions."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from playwright.async_api import BrowserContext, Page, async_playwright
from web_support import CHROMIUM_FLAGS, STEADY, bind, card, chromium, register, write_tokens

from registryd.auth import Role
from registryd.core.model import AgentCard, AgentStatus

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs"
LIVE = 1.0  # seconds within which the console shows a change (the bound)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a new empty profile; closed (and its process ended) at teardown."""
    executable = chromium()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            headless=True,
            args=[f for f in CHROMIUM_FLAGS if f != "--headless"],  # headless=True adds its own
        )
        try:
            yield context
        finally:
            await context.close()


async def open_console(context: BrowserContext, url: str, view: str = "overview") -> tuple[Page, list[str]]:
    """A page on the console; the list collects every JavaScript dialog and page error."""
    page = await context.new_page()
    alarms: list[str] = []
    page.on("dialog", lambda dialog: alarms.append(f"dialog: {dialog.message}"))
    page.on("pageerror", lambda error: alarms.append(f"error: {error}"))
    await page.goto(f"{url}#/{view}")
    return page, alarms


async def seconds_until(page: Page, selector: str, timeout: float = 5.0) -> float:
    start = time.monotonic()
    await page.wait_for_selector(selector, timeout=timeout * 1000)
    return time.monotonic() - start


async def test_a_new_agent_shows_up_live_and_turns_unhealthy_when_its_stream_dies(
    serve: Callable[..., Awaitable[object]], browser: BrowserContext
) -> None:
    daemon = await serve(http_listen="127.0.0.1:0", **STEADY)
    page, alarms = await open_console(browser, daemon.daemon.console_url, "agents")  # type: ignore[attr-defined]
    await page.wait_for_selector("#live[data-state=live]")

    await register(daemon.stub, "rt-live", "agent-live", card("live one"))  # type: ignore[attr-defined]
    assert await seconds_until(page, "tr[data-agent-id=agent-live][data-status=ACTIVE]") < LIVE

    stream = await bind(daemon.stub, "rt-live")  # type: ignore[attr-defined]
    stream.cancel()  # the runtime vanishes: the daemon sees its stream lost
    assert await seconds_until(page, "tr[data-agent-id=agent-live][data-status=UNHEALTHY]") < LIVE
    assert alarms == []


async def test_filters_and_capability_search(
    serve: Callable[..., Awaitable[object]], browser: BrowserContext
) -> None:
    daemon = await serve(http_listen="127.0.0.1:0", **STEADY)
    stub = daemon.stub  # type: ignore[attr-defined]
    await register(stub, "rt-a", "a-search", card("searcher", ["web-search"], {"team": "blue"}))
    await register(stub, "rt-a", "a-sum", card("summarizer", ["summarize"], {"team": "red"}))
    await register(stub, "rt-b", "b-search", card("other searcher", ["web-search"], {"team": "red"}))
    await stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="a-sum", status=pb.AGENT_STATUS_OFFLINE)
    )
    page, alarms = await open_console(browser, daemon.daemon.console_url, "agents")  # type: ignore[attr-defined]

    async def shown() -> set[str]:
        await page.wait_for_timeout(300)  # let the table settle after Apply
        rows = await page.query_selector_all("#agents tbody tr")
        return {await r.get_attribute("data-agent-id") or "" for r in rows}

    await page.wait_for_selector("tr[data-agent-id=b-search]")
    assert await shown() == {"a-search", "a-sum", "b-search"}
    await page.check("#status-filter input[value=OFFLINE]")
    await page.click("#agent-filters button[type=submit]")
    assert await shown() == {"a-sum"}
    await page.uncheck("#status-filter input[value=OFFLINE]")
    await page.fill("#filter-runtime", "rt-a")
    await page.click("#agent-filters button[type=submit]")
    assert await shown() == {"a-search", "a-sum"}
    await page.fill("#filter-labels", "team=red")
    await page.click("#agent-filters button[type=submit]")
    assert await shown() == {"a-sum"}
    await page.fill("#filter-runtime", "")
    await page.fill("#filter-labels", "")
    await page.fill("#filter-capability", "search")
    await page.click("#agent-filters button[type=submit]")
    assert await shown() == {"a-search", "b-search"}  # FindAgents: ACTIVE agents by default
    assert "web-search" in await page.inner_text("tr[data-agent-id=a-search]")
    assert alarms == []


async def test_card_texts_are_shown_as_text_never_run(
    serve: Callable[..., Awaitable[object]], browser: BrowserContext
) -> None:
    daemon = await serve(http_listen="127.0.0.1:0", **STEADY)
    hostile = "<img src=x onerror=alert(1)>"
    await register(
        daemon.stub,  # type: ignore[attr-defined]
        "rt-x",
        "xss",
        card(
            hostile, [hostile], {"<b>k</b>": "<script>alert(2)</script>"}, description="<svg onload=alert(3)>"
        ),
    )
    page, alarms = await open_console(browser, daemon.daemon.console_url, "agents")  # type: ignore[attr-defined]
    await page.wait_for_selector("tr[data-agent-id=xss]")
    assert hostile in await page.inner_text("tr[data-agent-id=xss]")
    await page.click("tr[data-agent-id=xss] a")
    await page.wait_for_selector("#agent-card dd")
    # The capability phrases are registry metadata: shown with the agent's fields, beside the card.
    card_text = await page.inner_text("#agent-card") + await page.inner_text("#agent-fields")
    assert (
        hostile in card_text
        and "<svg onload=alert(3)>" in card_text
        and "<script>alert(2)</script>" in card_text
    )
    await page.goto(f"{daemon.daemon.console_url}#/events")  # type: ignore[attr-defined]
    await page.wait_for_selector("#events tr[data-revision]")
    await page.wait_for_timeout(300)  # give any injected handler time to fire
    assert await page.query_selector_all("main img, main svg:not(#chart), main script, main b") == []
    assert alarms == []


async def test_a_secured_daemon_asks_for_a_token_and_only_admin_may_act(
    serve: Callable[..., Awaitable[object]], browser: BrowserContext, tmp_path: Path
) -> None:
    tokens = write_tokens(
        tmp_path / "tokens.toml", {"ops": Role.ADMIN, "viewer": Role.READER, "rt": Role.RUNTIME}
    )
    daemon = await serve(http_listen="127.0.0.1:0", auth_tokens=str(tmp_path / "tokens.toml"), **STEADY)
    stub = daemon.stub  # type: ignore[attr-defined]
    for agent_id in ("keep", "gone", "drained"):
        await register(
            stub, "rt-1" if agent_id != "drained" else "rt-2", agent_id, card(agent_id), tokens["rt"]
        )
    url = daemon.daemon.console_url  # type: ignore[attr-defined]

    page, alarms = await open_console(browser, url, "agent/keep")
    await page.wait_for_selector("#token-dialog[open]")
    await page.fill("#token-input", tokens["viewer"])
    await page.click("#token-form button[type=submit]")
    await page.wait_for_selector("#agent-fields dd")
    assert "viewer (reader)" in await page.inner_text("#who")
    assert await page.is_hidden("#agent-actions")

    await page.click("#forget-token")
    await page.wait_for_selector("#token-dialog[open]")
    await page.fill("#token-input", tokens["ops"])
    await page.click("#token-form button[type=submit]")
    await page.wait_for_selector("#agent-actions:not([hidden])")

    async def agent(agent_id: str) -> pb.Agent:
        reply = await stub.GetAgent(
            pb.GetAgentRequest(agent_id=agent_id), metadata=(("authorization", f"Bearer {tokens['ops']}"),)
        )
        return reply.agent

    await page.select_option("#operator-status", "DEGRADED")
    await page.click("#set-status")
    await page.wait_for_selector("#confirm-dialog[open]")
    await page.click("#confirm-cancel")  # asked, and said no: nothing changes
    assert (await agent("keep")).status == pb.AGENT_STATUS_ACTIVE
    await page.click("#set-status")
    await page.click("#confirm-ok")
    await page.wait_for_selector("#agent-status [data-status=DEGRADED]")
    assert (await agent("keep")).status_reason == pb.STATUS_REASON_OPERATOR

    await page.goto(f"{url}#/agent/gone")
    await page.wait_for_selector("#agent-actions:not([hidden])")
    await page.click("#deregister")
    await page.click("#confirm-ok")
    await page.wait_for_selector("#agent-status:text('not registered')")
    with pytest.raises(grpc.aio.AioRpcError):
        await agent("gone")

    await page.goto(f"{url}#/runtimes")
    await page.click("tr[data-runtime-id=rt-2] button")
    assert "OFFLINE" in await page.inner_text("#confirm-text")
    await page.click("#confirm-ok")
    await page.goto(f"{url}#/agent/drained")
    await page.wait_for_selector("#agent-status [data-status=OFFLINE]")
    assert alarms == []


async def test_events_tail_pauses_and_resumes(
    serve: Callable[..., Awaitable[object]], browser: BrowserContext
) -> None:
    daemon = await serve(http_listen="127.0.0.1:0", **STEADY)
    stub = daemon.stub  # type: ignore[attr-defined]
    await register(stub, "rt-e", "before", card("before"))
    page, alarms = await open_console(browser, daemon.daemon.console_url, "events")  # type: ignore[attr-defined]
    await page.wait_for_selector("#live[data-state=live]")
    await page.wait_for_selector("#events tbody tr:has-text('before')")

    await page.click("#pause")
    await register(stub, "rt-e", "while-paused", card("p"))
    await page.wait_for_selector("#pending:text('paused: 1 new')")
    assert await page.query_selector("#events tbody tr:has-text('while-paused')") is None
    await page.click("#pause")
    await page.wait_for_selector("#events tbody tr:has-text('while-paused')")

    await page.select_option("#event-type", "RUNTIME_JOINED")
    texts = await page.locator("#events tbody tr").all_inner_texts()
    assert texts and all("RUNTIME_JOINED" in t for t in texts)
    assert alarms == []


async def test_the_overview_at_ten_thousand_agents_pages_and_charts(
    serve: Callable[..., Awaitable[object]], browser: BrowserContext
) -> None:
    """10k agents: the agents table shows pages of 100; the overview is what the README shows."""
    daemon = await serve(http_listen="127.0.0.1:0", **STEADY)
    registry = daemon.daemon.registry  # type: ignore[attr-defined]
    for i in range(10_000):  # straight into the core: this test is about the console, not registration
        await registry.register(
            f"runtime-{i % 40:02d}", AgentCard(name=f"agent {i}", capabilities=("work",)), f"agent-{i:05d}"
        )
    for i in range(0, 10_000, 7):
        await registry.update_status(f"agent-{i:05d}", (AgentStatus.DEGRADED, AgentStatus.OFFLINE)[i % 2])
    page, alarms = await open_console(browser, daemon.daemon.console_url, "agents")  # type: ignore[attr-defined]
    start = time.monotonic()
    await page.wait_for_selector("tr[data-agent-id=agent-00099]")
    first_page = time.monotonic() - start
    assert len(await page.query_selector_all("#agents tbody tr")) == 100
    await page.click("#page-next")
    await page.wait_for_selector("tr[data-agent-id=agent-00199]")
    assert first_page < 5.0, first_page
    await page.goto(f"{daemon.daemon.console_url}#/overview")  # type: ignore[attr-defined]
    await page.wait_for_selector("#chart polyline")
    shot = await page.screenshot(full_page=True)
    assert len(shot) > 10_000
    if os.environ.get("REGISTRYD_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        (SCREENSHOTS / "console-overview.png").write_bytes(shot)
        await page.goto(f"{daemon.daemon.console_url}#/agents")  # type: ignore[attr-defined]
        await page.wait_for_selector("tr[data-agent-id=agent-00199]")  # still on page 2
        (SCREENSHOTS / "console-agents.png").write_bytes(await page.screenshot())
    assert alarms == []
