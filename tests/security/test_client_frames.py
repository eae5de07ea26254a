"""The dashboard's client input parsers, fed hostile input directly.

The attack: a client sends frames or an ``?after=`` built to make the parser
raise (deep nesting, huge numbers, odd types). Before the fix a RecursionError
or ValueError escaped the consumer and killed the socket. The safe outcome:
the parsers answer None for everything that is not a well-formed id.
"""

from __future__ import annotations

import json

import pytest

from shop_manager.live.protocol import (
    MAX_FRAME_LENGTH,
    after_from_query_string,
    parse_client_frame,
)


def fetch(after: object) -> str:
    return json.dumps({"type": "fetch", "after": after})


@pytest.mark.parametrize(
    ("text", "after"),
    [
        (fetch(0), 0),
        (fetch(42), 42),
        (fetch(2**63 - 1), 2**63 - 1),
        ('{"after": 7, "type": "fetch", "extra": [1, 2]}', 7),
        (' \n{"type":"fetch","after":7}\t', 7),
    ],
)
def test_a_fetch_frame_gives_its_after_id(text, after):
    """The one real client frame, in any key order or spacing, still works."""
    assert parse_client_frame(text) == after


HOSTILE_FRAMES = {
    "binary": None,
    "empty": "",
    "blank": " ",
    "not_json": "not json",
    "nested_lists": "[" * 100_000,
    "nested_objects": '{"a":' * 100_000,
    "nested_within_the_limit": "[" * (MAX_FRAME_LENGTH // 2)
    + "]" * (MAX_FRAME_LENGTH // 2),
    "closed_deep_nesting": "[" * 50_000 + "]" * 50_000,
    "after_with_5000_digits": '{"type": "fetch", "after": ' + "9" * 5_000 + "}",
    "after_with_900_digits": '{"type": "fetch", "after": ' + "9" * 900 + "}",
    "after_huge_exponent": '{"type": "fetch", "after": 1e400}',
    "after_nan": '{"type": "fetch", "after": NaN}',
    "after_infinity": '{"type": "fetch", "after": -Infinity}',
    "after_negative": fetch(-1),
    "after_2_63": fetch(2**63),
    "after_2_64": fetch(2**64),
    "after_float": fetch(1.5),
    "after_whole_float": fetch(1.0),
    "after_string": fetch("1"),
    "after_fullwidth": fetch("\uff10\uff11"),
    "after_true": fetch(True),
    "after_null": fetch(None),
    "after_list": fetch([1]),
    "after_object": fetch({"id": 1}),
    "no_after": json.dumps({"type": "fetch"}),
    "other_type": json.dumps({"type": "delete", "after": 1}),
    "type_not_a_string": json.dumps({"type": ["fetch"], "after": 1}),
    "list": json.dumps([{"type": "fetch", "after": 0}]),
    "string": json.dumps("fetch"),
    "number": "1",
    "oversized_valid_frame": json.dumps(
        {"type": "fetch", "after": 1, "pad": "x" * MAX_FRAME_LENGTH}
    ),
    "nul": '{"type": "fetch\x00", "after": 1}',
    "lone_surrogate": '{"type": "\ud800", "after": 1}',
    "escaped_lone_surrogate": '{"type": "fetch\\ud800", "after": 1}',
    "truncated": '{"type": "fetch", "after": 1',
    "trailing_garbage": fetch(1) + "x",
}


@pytest.mark.parametrize("text", HOSTILE_FRAMES.values(), ids=HOSTILE_FRAMES.keys())
def test_a_hostile_frame_is_not_a_fetch(text):
    """Attack: a frame built to make the parser raise or misread it.
    Safe: None (ignored), never an exception."""
    assert parse_client_frame(text) is None


def test_a_frame_just_under_the_limit_is_still_read():
    """The size bound cuts only frames longer than ``MAX_FRAME_LENGTH``."""
    frame = fetch(3)
    padded = frame[:-1] + ', "pad": "' + "x" * MAX_FRAME_LENGTH + '"}'
    padded = padded[: MAX_FRAME_LENGTH - 2] + '"}'
    assert len(padded) == MAX_FRAME_LENGTH
    assert parse_client_frame(padded) == 3


@pytest.mark.parametrize(
    ("query", "after"),
    [
        (b"after=0", 0),
        (b"after=17", 17),
        (b"after=9223372036854775807", 2**63 - 1),
        (b"x=1&after=5", 5),
        (b"after=%35", 5),
    ],
)
def test_an_after_parameter_gives_its_id(query, after):
    """A well-formed ``?after=`` (the bundled page's) still replays."""
    assert after_from_query_string(query) == after


HOSTILE_QUERIES = {
    "absent": b"",
    "other_parameter": b"x=1",
    "empty": b"after=",
    "5000_digits": b"after=" + b"9" * 5_000,
    "20_digits": b"after=" + b"1" * 20,
    "2_63": b"after=9223372036854775808",
    "negative": b"after=-1",
    "plus": b"after=%2B1",
    "exponent": b"after=1e9",
    "float": b"after=1.0",
    "space": b"after=%201",
    "fullwidth_digits": "after=\uff10\uff11".encode(),
    "fullwidth_digits_percent_encoded": b"after=%EF%BC%90%EF%BC%91",
    "arabic_indic_digits": "after=٣".encode(),
    "repeated": b"after=1&after=2",
    "repeated_same": b"after=1&after=1",
    "nul": b"after=%00",
    "nul_after_digits": b"after=1%00",
    "raw_invalid_utf8": b"after=\xff\xfe",
    "percent_invalid_utf8": b"after=%FF",
    "lone_surrogate": b"after=%ED%A0%80",
}


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_a_hostile_after_parameter_is_no_after(query):
    """Attack: an ``?after=`` that is not one id (int() raised on 5,000
    digits). Safe: None, so the server sends a heartbeat instead of a replay."""
    assert after_from_query_string(query) is None
