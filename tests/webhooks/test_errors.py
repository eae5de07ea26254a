"""Error text every database stores: no NUL, no lone surrogate, bounded."""

from __future__ import annotations

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
