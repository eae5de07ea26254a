"""One POST to one endpoint, bounded in time and size, over a connection whose
peer address :mod:`.safety` approved.

The client is httpcore (the ``webhooks`` extra), the engine under httpx, used
directly. Async, so one relay serves many endpoints on one thread with one
keep-alive connection each (``http.client`` would need a thread and a
database connection per endpoint); it never follows redirects; it streams, so
the size cap is a read loop; and its connection pool takes a network backend
as a public argument, which is where the resolved address is checked on every
new connection. httpx's client layers (cookies, auth, redirects, URL merging)
add nothing here and cost 40% more CPU per request (benchmarks/README.md).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import typing
from dataclasses import dataclass

import certifi
import httpcore

from shop_manager.webhooks.errors import storable
from shop_manager.webhooks.retries import retry_after_seconds
from shop_manager.webhooks.safety import (
    UnsafeURLError,
    address_refusal,
    refused,
    request_url,
)

__all__ = ["EndpointClient", "Outcome", "SafeNetworkBackend"]

# Statuses after which a Retry-After header is honoured.
RETRY_AFTER_STATUSES = (429, 503)
# How much of a failing response's body the error keeps.
ERROR_BODY_CHARS = 300
USER_AGENT = "django-shop-manager-webhooks"
# What a failed connection, request or response raises.
HTTP_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ConnectionNotAvailable,
)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to. ``ok``: a 2xx, the event is acknowledged."""

    ok: bool
    status: int | None
    duration_ms: int
    error: str = ""
    retry_after: float | None = None


class SafeNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, refuses when any address is not allowed, and
    connects to an approved address: TLS still verifies the host name."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            refusal = address_refusal(address, allow_private=self._allow_private)
            if refusal:
                raise refused(host, refusal)
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError("Webhooks are never sent over Unix sockets.")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class EndpointClient:
    """One endpoint's connection: keep-alive, one request at a time (the
    caller awaits each), no redirects, no proxies."""

    def __init__(
        self, *, timeout: float, max_response_bytes: int, allow_private: bool
    ) -> None:
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._timeouts = dict.fromkeys(("connect", "read", "write", "pool"), timeout)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=1,
            max_keepalive_connections=1,
            retries=0,
            network_backend=SafeNetworkBackend(allow_private=allow_private),
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        started = time.monotonic()
        status: int | None = None
        retry_after: float | None = None
        try:
            # IDNA host, percent-encoded path: httpcore takes ASCII only.
            target = request_url(url)
            answered, text, retry_after = await asyncio.wait_for(
                self._post(target, headers, body), self.timeout
            )
            status = answered
        except asyncio.TimeoutError:
            error = f"timed out after {self.timeout:g} s"
        except httpcore.TimeoutException as exc:
            # httpcore's own phase timeouts equal ours and may fire first:
            # the same words either way, with the phase that ran out.
            error = f"{type(exc).__name__}: timed out after {self.timeout:g} s"
        except UnsafeURLError as exc:
            error = storable(f"refused: {exc}")
        except HTTP_ERRORS as exc:
            error = storable(f"{type(exc).__name__}: {exc}".rstrip(": "))
        else:
            error = "" if 200 <= answered < 300 else _status_error(answered, text)
        duration_ms = round((time.monotonic() - started) * 1000)
        return Outcome(
            ok=not error,
            status=status,
            duration_ms=duration_ms,
            error=error,
            retry_after=retry_after,
        )

    async def _post(
        self, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, float | None]:
        received = bytearray()
        async with self._pool.stream(
            "POST",
            url,
            headers=[("user-agent", USER_AGENT), *headers.items()],
            content=body,
            extensions={"timeout": self._timeouts},
        ) as response:
            async for chunk in response.aiter_stream():
                received += chunk[: self.max_response_bytes - len(received)]
                if len(received) >= self.max_response_bytes:
                    # Leaving unread data closes the connection; the next
                    # request opens a new one.
                    break
            retry_after = (
                retry_after_seconds(_header(response.headers, b"retry-after"))
                if response.status in RETRY_AFTER_STATUSES
                else None
            )
            return response.status, received.decode("utf-8", "replace"), retry_after


def _status_error(status: int, text: str) -> str:
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed"
    text = " ".join(text.split())[:ERROR_BODY_CHARS]
    return storable(f"HTTP {status}" + (f": {text}" if text else ""))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None
