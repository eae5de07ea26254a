"""Error text every database stores: no NUL, no lone surrogate, bounded, and
the same words for the same failure."""

from __future__ import annotations

import asyncio
from unittest import mock

import httpcore
import pytest

from shop_manager.webhooks.delivery import EndpointClient
from shop_manager.webhooks.errors import ERROR_MAX_CHARS, storable, summary


def test_control_characters_and_lone_surrogates_are_escaped() -> None:
    text = storable("a\x00b\x1b[31mc\ud800d\tend\n")

    assert text == "a\\x00b\\x1b[31mc\\ud800d\tend\n"
    text.encode("utf-8")  # and encodes


def test_long_text_is_cut_to_the_bound() -> None:
    text = storable("x" * 100_000)

    assert len(text) == ERROR_MAX_CHARS
    assert text.endswith("…")
    assert storable("short") == "short"


def test_an_exception_is_summarised_by_type_and_message() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert summary(TypeError("bad \x00 url")) == "TypeError: bad \\x00 url"
    assert summary(KeyError()) == "KeyError"
    assert summary(Unprintable()) == "Unprintable: (no message)"


@pytest.mark.asyncio
async def test_a_timeout_reads_the_same_whichever_clock_ran_out_first() -> None:
    # httpcore's phase timeouts equal the overall one; either may fire first
    # on a loaded machine, and the admin must say "timed out" both ways.
    async def never_answers(*args: object) -> tuple[int, str, float | None]:
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    async def read_times_out(*args: object) -> tuple[int, str, float | None]:
        raise httpcore.ReadTimeout("")

    client = EndpointClient(timeout=0.05, max_response_bytes=1024, allow_private=True)
    try:
        for post in (never_answers, read_times_out):
            with mock.patch.object(client, "_post", post):
                outcome = await client.post("http://127.0.0.1:9/in", {}, b"{}")
            assert not outcome.ok
            assert "timed out after 0.05 s" in outcome.error
    finally:
        await client.aclose()
