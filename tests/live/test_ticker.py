"""The per-process ticker: a burst of "re-check now" makes one pass."""

from __future__ import annotations

import pytest

from shop_manager.live import ticker as heartbeat

pytestmark = pytest.mark.asyncio


class Socket:
    user_pk = 1
    session_key = "key"


@pytest.fixture
def ticker(monkeypatch: pytest.MonkeyPatch) -> heartbeat.Ticker:
    monkeypatch.setattr(heartbeat, "RECHECK_DELAY", 0.01)
    ticker = heartbeat.Ticker()
    ticker.watchers.add(Socket())  # Not add(): no heartbeat loop here.
    return ticker


async def test_a_burst_of_rechecks_makes_one_pass(ticker, monkeypatch):
    passes = []

    async def revalidate() -> None:
        passes.append("pass")

    monkeypatch.setattr(ticker, "revalidate", revalidate)
    for _ in range(100):
        ticker.recheck_soon()
    assert ticker._recheck_task is not None
    await ticker._recheck_task
    assert passes == ["pass"]


async def test_a_recheck_during_a_pass_makes_one_more(ticker, monkeypatch):
    """The change it announces may have committed after the pass read the
    database."""
    passes = []

    async def revalidate() -> None:
        passes.append("pass")
        if len(passes) == 1:
            ticker.recheck_soon()
            ticker.recheck_soon()

    monkeypatch.setattr(ticker, "revalidate", revalidate)
    ticker.recheck_soon()
    assert ticker._recheck_task is not None
    await ticker._recheck_task
    assert passes == ["pass", "pass"]


async def test_a_failing_pass_is_logged_and_the_next_burst_runs(
    ticker, monkeypatch, caplog
):
    passes = []

    async def revalidate() -> None:
        passes.append("pass")
        raise ConnectionError("database restarting")

    monkeypatch.setattr(ticker, "revalidate", revalidate)
    for _ in range(2):
        ticker.recheck_soon()
        assert ticker._recheck_task is not None
        await ticker._recheck_task
    assert passes == ["pass", "pass"]
    assert "Could not re-check the dashboard sockets" in caplog.text
