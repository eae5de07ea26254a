"""Which client address django-axes locks, on the example project served as
its container serves it (uvicorn with the Dockerfile's options, DEBUG off),
with and without the TLS proxy docker-compose.yml puts it behind.

A lockout is keyed on the username *and* the client's address, so guessing
one account's password is stopped without letting anyone lock that account
for everybody else. That holds only if the address is the real client's:
behind the proxy, the entry the proxy appended to X-Forwarded-For; without
one, the TCP peer, whatever X-Forwarded-For a client sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.helpers.example_site import (
    PRODUCTION_SECRET_KEY,
    ExampleServer,
    Visitor,
    shell,
)

FAILURE_LIMIT = 5  # The example project's default AXES_FAILURE_LIMIT.
HOST = "shop.example.com"
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"
# Where the proxy connects from: like a proxy container's address on the
# compose network, not an address uvicorn trusts proxy headers from by
# default (127.0.0.1 and ::1).
PROXY = "127.0.0.2"
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": PRODUCTION_SECRET_KEY,
    "ALLOWED_HOSTS": HOST,
}
BEHIND_PROXY = {**PRODUCTION, "HTTPS": "true", "BEHIND_PROXY": "true"}
# Served directly: plain HTTP, nothing in front.
NO_PROXY = {**PRODUCTION, "HTTPS": "false"}

Serve = Callable[[dict[str, str]], ExampleServer]


@pytest.fixture
def serve(example_server: Serve, example_database: dict[str, str]) -> Serve:
    """Start the example project with ``env`` on a fresh database holding the
    user ``victim``."""

    def start(env: dict[str, str]) -> ExampleServer:
        shell(
            "from django.contrib.auth import get_user_model\n"
            "get_user_model().objects.create_user('victim', password='victims-pw')",
            **env,
            **example_database,
        )
        return example_server(env)

    return start


def through_proxy(client: str, forged: str | None = None) -> dict[str, str]:
    """The headers the TLS proxy sends for a request from ``client`` that
    itself sent ``X-Forwarded-For: forged``: like nginx's
    ``$proxy_add_x_forwarded_for``, it appends the address it saw."""
    chain = f"{forged}, {client}" if forged else client
    return {"X-Forwarded-For": chain, "X-Forwarded-Proto": "https"}


def guess(server: ExampleServer, headers: dict[str, str], password: str) -> int:
    """One login as victim from a new browser sending ``headers``: through
    the proxy when they are a proxy's, else straight from 127.0.0.1."""
    proxied = "X-Forwarded-Proto" in headers
    visitor = Visitor(
        server, HOST, headers, https=proxied, source=PROXY if proxied else "127.0.0.1"
    )
    return visitor.log_in("victim", password).status


def locked_addresses(env: dict[str, str]) -> list[str]:
    """The addresses django-axes recorded failures for."""
    output = shell(
        "import json\n"
        "from axes.models import AccessAttempt\n"
        "print(json.dumps(sorted(AccessAttempt.objects.values_list("
        "'ip_address', flat=True).distinct())))",
        **env,
    )
    return list(json.loads(output.splitlines()[-1]))


def test_behind_the_proxy_a_lockout_holds_only_for_the_guessing_client(serve):
    """Attack: from one client behind the proxy, guess victim's password
    until the account locks. Safe: that client is locked out (429, even with
    the right password), while victim, from another client through the same
    proxy, logs in. Keyed on the proxy's own address instead, every user
    behind it was locked out."""
    server = serve(BEHIND_PROXY)
    attacker = through_proxy(ATTACKER)

    wrong = [guess(server, attacker, f"guess-{n}") for n in range(FAILURE_LIMIT)]

    assert wrong == [200] * (FAILURE_LIMIT - 1) + [429]
    assert guess(server, attacker, "victims-pw") == 429
    assert guess(server, through_proxy(VICTIM), "victims-pw") == 302


def test_behind_the_proxy_a_forged_forwarded_for_neither_dodges_nor_frames(serve):
    """Attack: behind the proxy, send X-Forwarded-For yourself: a new
    address on every guess (to dodge the lockout), one of them victim's own
    (to lock victim's address). The proxy appends the address it saw, and
    only that entry is trusted. Safe: the guesses count against the
    attacker's real address and lock it whatever is forged next; victim's
    address is not locked."""
    server = serve(BEHIND_PROXY)

    wrong = [
        guess(server, through_proxy(ATTACKER, forged=f"{VICTIM[:-1]}{n}"), f"g{n}")
        for n in range(FAILURE_LIMIT)
    ]

    assert wrong == [200] * (FAILURE_LIMIT - 1) + [429]
    assert guess(server, through_proxy(ATTACKER, forged="192.0.2.1"), "x") == 429
    assert guess(server, through_proxy(ATTACKER), "victims-pw") == 429
    assert guess(server, through_proxy(VICTIM), "victims-pw") == 302


def test_without_a_proxy_a_client_sent_forwarded_for_is_ignored(
    serve, example_database
):
    """Attack: a site served directly (no proxy configured) gets requests
    with X-Forwarded-For set by the client: a new address on every guess,
    to dodge the lockout, and victim's address, to frame it. Safe: every
    guess counts against the address the connection really comes from, so
    the account locks for that client whatever the header says next, and no
    forged address is recorded."""
    server = serve(NO_PROXY)

    wrong = [
        guess(server, {"X-Forwarded-For": f"{VICTIM[:-1]}{n}"}, f"guess-{n}")
        for n in range(FAILURE_LIMIT)
    ]

    assert wrong == [200] * (FAILURE_LIMIT - 1) + [429]
    assert guess(server, {"X-Forwarded-For": "192.0.2.1"}, "victims-pw") == 429
    assert guess(server, {}, "victims-pw") == 429
    assert locked_addresses({**NO_PROXY, **example_database}) == ["127.0.0.1"]


# The rule itself, on requests as Django builds them ------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        # No proxy: the header is never read.
        (0, "198.51.100.7", "192.0.2.10"),
        # One proxy: the entry it appended, whatever the client put before it.
        (1, "203.0.113.66", "203.0.113.66"),
        (1, "198.51.100.7, 203.0.113.66", "203.0.113.66"),
        (1, "198.51.100.7,203.0.113.66", "203.0.113.66"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "::ffff:203.0.113.66", "203.0.113.66"),
        # Not through the proxy, or not what a proxy writes: the peer.
        (1, None, "192.0.2.10"),
        (1, "", "192.0.2.10"),
        (1, "198.51.100.7, not-an-address", "192.0.2.10"),
        (1, "198.51.100.7, 203.0.113.66:4711", "192.0.2.10"),
        # Two proxies (a CDN, then ours): the entry the CDN appended.
        (2, "198.51.100.7, 203.0.113.66, 192.0.2.200", "203.0.113.66"),
        # Entered at our proxy, behind the CDN: what our proxy saw.
        (2, "203.0.113.66", "203.0.113.66"),
    ],
)
def test_the_client_address_is_the_entry_our_proxy_appended(
    rf, settings, proxies, forwarded_for, expected
):
    from example_project.example_project.client_address import client_address

    settings.PROXY_COUNT = proxies
    headers = {} if forwarded_for is None else {"x-forwarded-for": forwarded_for}
    request = rf.get("/accounts/login/", REMOTE_ADDR="192.0.2.10", headers=headers)

    assert client_address(request) == expected
