"""Hostile webhook receivers: whatever a receiver answers (or whatever its URL
holds), the attempt is a recorded failure, backed off, counted towards the
pause, and the relay gives the endpoint's lease back, SIGTERM included.

Each case once ran the relay into an unrecorded crash: no failure counted,
no backoff, never paused, ``last_error`` empty, a traceback per poll, and on
PostgreSQL a lease left held after SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from tests.helpers.webhooks import (
    FAST,
    Answer,
    Receiver,
    RelayProcess,
    fast_settings,
    receiving,
    relay_once,
    relay_until,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

# What each hostile receiver answers.
HOSTILE = {
    # PostgreSQL refuses NUL in text: saving this error raised DataError.
    "nul-in-body": Answer(500, body=b"broken\x00\xed\xa0\x80 body"),
    # "\xb2" is "²": str.isdigit() says yes, float() raises.
    "superscript-retry-after": Answer(429, headers={"Retry-After": "\xb2"}),
}
# An IDN host, resolved (as a DNS server would) to the test receiver.
IDN_HOST = "bücher.example"
IDN_ASCII = "xn--bcher-kva.example"
# Long enough that no retry is due during a test.
SLOW_RETRY = {"WEBHOOK_BACKOFF_SECONDS": 600, "WEBHOOK_BACKOFF_MAX_SECONDS": 600}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def idn_resolves_to_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver of our own (no DNS here, and no waiting on one): the
    punycode name resolves to 127.0.0.1, any other name under .example is
    unknown."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name == IDN_ASCII:
            return real("127.0.0.1", *args, **kwargs)
        if name.endswith(".example"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def assert_one_recorded_failure(endpoint: WebhookEndpoint) -> None:
    """One failure: counted, kept as a storable error, retried later, and
    the lease given back."""
    endpoint.refresh_from_db()
    assert endpoint.failures == 1
    assert endpoint.last_error
    assert "\x00" not in endpoint.last_error
    assert endpoint.next_attempt_at is not None
    assert endpoint.next_attempt_at > timezone.now() + timedelta(seconds=60)
    assert endpoint.lease_owner == ""
    (attempt,) = WebhookAttempt.objects.filter(endpoint=endpoint)
    assert not attempt.ok
    assert attempt.error == endpoint.last_error


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_answer_is_a_recorded_backed_off_failure(
    receiver: Receiver,
    answer: Answer,
    make_product: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.default = answer
    with fast_settings(**SLOW_RETRY):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        relay_once()
        relay_once()  # Not due: the backoff holds it.

    assert len(receiver.received) == 1
    assert_one_recorded_failure(endpoint)
    assert endpoint.last_error.startswith(f"HTTP {answer.status}")
    # An answer the relay expects to meet is a warning, not a crash.
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_receiver_is_paused_after_the_configured_failures(
    receiver: Receiver, answer: Answer, make_product: Any
) -> None:
    receiver.default = answer
    with fast_settings(WEBHOOK_PAUSE_AFTER_FAILURES=3):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        relay_until(lambda: WebhookEndpoint.objects.get().is_paused)
        relay_once()

    assert len(receiver.received) == 3
    endpoint.refresh_from_db()
    assert endpoint.failures == 3
    assert endpoint.lease_owner == ""
    assert WebhookAttempt.objects.filter(endpoint=endpoint, ok=False).count() == 3


@pytest.mark.usefixtures("idn_resolves_to_receiver")
def test_an_idn_host_is_sent_to_as_punycode(
    receiver: Receiver, make_product: Any
) -> None:
    with fast_settings():
        call_command(
            "shop_manager_webhooks",
            "add",
            f"http://{IDN_HOST}:{receiver.port}/hook",
            stdout=StringIO(),
        )
        make_product()
        relay_once()

    (received,) = receiver.acknowledged
    assert received.headers["host"] == f"{IDN_ASCII}:{receiver.port}"
    assert WebhookEndpoint.objects.get().failures == 0


@pytest.mark.usefixtures("idn_resolves_to_receiver")
def test_an_idn_host_is_checked_by_what_its_punycode_resolves_to(
    receiver: Receiver,
) -> None:
    with (
        fast_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False),
        pytest.raises(CommandError, match=f"{IDN_ASCII} resolves to 127.0.0.1"),
    ):
        call_command(
            "shop_manager_webhooks", "add", f"http://{IDN_HOST}/", stdout=StringIO()
        )
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.usefixtures("idn_resolves_to_receiver")
def test_an_unresolvable_idn_host_is_a_recorded_failure(
    make_product: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with fast_settings(**SLOW_RETRY):
        # Stored as the admin would have before: nothing checked it.
        endpoint = WebhookEndpoint.objects.create(url="https://nirgendwo-ö.example/")
        make_product()
        relay_once()
        relay_once()

    endpoint.refresh_from_db()
    assert "cannot resolve xn--nirgendwo--ncb.example" in endpoint.last_error
    assert_one_recorded_failure(endpoint)
    assert tracebacks(caplog) == []


def test_a_non_ascii_path_and_query_are_percent_encoded(
    receiver: Receiver, make_product: Any
) -> None:
    with fast_settings():
        WebhookEndpoint.objects.create(url=f"{receiver.url}/bücher?für=Größe")
        make_product()
        relay_once()

    (received,) = receiver.acknowledged
    assert received.path == "/hook/b%C3%BCcher?f%C3%BCr=Gr%C3%B6%C3%9Fe"


def test_an_unexpected_error_is_logged_once_and_recorded_as_a_failure(
    receiver: Receiver,
    make_product: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug on the delivery path (here: building the payload) must not hide
    in a crash loop: one traceback in the log, a short summary stored."""

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("payload bug \x00\ud800")

    monkeypatch.setattr("shop_manager.webhooks.payloads.message_body", broken)
    with fast_settings(**SLOW_RETRY):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        relay_once()
        relay_once()

    assert receiver.received == []
    assert_one_recorded_failure(endpoint)
    assert endpoint.last_error.startswith("RuntimeError: payload bug")
    assert "\ud800" not in endpoint.last_error
    (logged,) = tracebacks(caplog)
    assert "payload bug" in str(logged.exc_info[1])  # type: ignore[index]


def test_progress_that_cannot_be_saved_still_counts_the_failure(
    receiver: Receiver,
    make_product: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the database refuses the attempt rows themselves, the failure is
    still counted and backed off, without them, and the lease given back."""
    from shop_manager.webhooks import store

    make_attempt = store.attempt

    def unstorable(*args: Any) -> WebhookAttempt:
        row = make_attempt(*args)
        row.event_id = 2**70  # too large for the column, on every database
        return row

    monkeypatch.setattr(store, "attempt", unstorable)
    receiver.default = Answer(500)
    with fast_settings(**SLOW_RETRY):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        relay_once()
        relay_once()

    assert len(receiver.received) == 1
    endpoint.refresh_from_db()
    assert endpoint.failures == 1
    assert endpoint.last_error.startswith("HTTP 500")
    assert endpoint.next_attempt_at > timezone.now() + timedelta(seconds=60)
    assert endpoint.lease_owner == ""
    assert not WebhookAttempt.objects.exists()
    assert len(tracebacks(caplog)) == 1


def sigterm_when(condition: Callable[[], bool]) -> threading.Thread:
    """SIGTERM to this process (the relay command's handler) once
    ``condition`` holds."""

    def watch() -> None:
        try:
            wait_until(condition, timeout=30, what="the hostile receiver to be tried")
        finally:  # Stopped either way: the test fails, it does not hang.
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
def test_sigterm_gives_the_lease_back_after_hostile_answers(
    receiver: Receiver, answer: Answer, make_product: Any
) -> None:
    """The relay command as a service runs it, stopped by a real SIGTERM
    after a hostile receiver has failed it twice."""
    receiver.default = answer
    with fast_settings():
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        watcher = sigterm_when(lambda: len(receiver.received) >= 2)
        out = StringIO()
        call_command("shop_manager_relay", stdout=out)
        watcher.join(5)

    assert "stopped" in out.getvalue()
    endpoint.refresh_from_db()
    assert endpoint.lease_owner == ""
    assert endpoint.lease_until is None
    assert endpoint.failures >= 2
    assert "\x00" not in endpoint.last_error
    attempts = WebhookAttempt.objects.filter(endpoint=endpoint)
    assert attempts.count() == endpoint.failures
    assert not attempts.filter(ok=True).exists()


@pytest.mark.postgres
@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_relay_process_gives_the_lease_back_on_sigterm(
    receiver: Receiver, answer: Answer, make_product: Any
) -> None:
    """The same, with the relay in its own process as production runs it
    (PostgreSQL: the process shares the test database)."""
    receiver.default = answer
    endpoint = WebhookEndpoint.objects.create(url=receiver.url)
    make_product()
    relay = RelayProcess(FAST).start()
    try:
        wait_until(
            lambda: WebhookEndpoint.objects.get().failures >= 2,
            timeout=30,
            what="two recorded failures",
        )
        assert relay.terminate() == 0
    finally:
        relay.kill()

    endpoint.refresh_from_db()
    assert (endpoint.lease_owner, endpoint.lease_until) == ("", None)
    assert "\x00" not in endpoint.last_error
    assert WebhookAttempt.objects.filter(endpoint=endpoint).count() == (
        endpoint.failures
    )
