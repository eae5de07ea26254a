"""Outbound safety: which URLs and addresses the relay may connect to.

A webhook URL is typed by whoever manages endpoints, and the relay runs inside
the site's network: without these rules it would POST to the database's admin
port or a cloud metadata service (SSRF). Only ``http``/``https``; every
address a host resolves to must be public, unless
``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` (development). The relay checks the address
it actually connects to (:mod:`.delivery`), so a DNS answer that changes after
these checks (rebinding) is caught too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from shop_manager.conf import get_config

__all__ = [
    "ALLOWED_SCHEMES",
    "UnsafeURLError",
    "address_refusal",
    "check_url",
    "refused",
    "split_url",
]

ALLOWED_SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURLError(ValueError):
    """The relay refuses to send to this URL or address; the message says why."""


def split_url(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; UnsafeURLError for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"{url!r} is not a valid URL: {exc}") from exc
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeURLError(
            f"Only http and https URLs can receive webhooks, not {parts.scheme!r}."
        )
    if not parts.hostname:
        raise UnsafeURLError(f"{url!r} has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError("Credentials in the URL would be sent in clear logs.")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def address_refusal(address: str, *, allow_private: bool | None = None) -> str | None:
    """Why ``address`` may not be connected to ("10.0.0.1, a private
    address"), or None when it may."""
    if allow_private is None:
        allow_private = get_config()["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]
    if allow_private:
        return None
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private or not ip.is_global),
    ):
        if flag:
            return f"{address}, a {kind} address"
    return None


def refused(host: str, refusal: str) -> UnsafeURLError:
    return UnsafeURLError(
        f"{host} resolves to {refusal}; SHOP_MANAGER"
        "['WEBHOOK_ALLOW_PRIVATE_ADDRESSES'] = True allows it (development only)."
    )


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeURLError(f"Cannot resolve {host!r}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def check_url(url: str, *, allow_private: bool | None = None) -> None:
    """Refuse (UnsafeURLError) a URL the relay would not send to, resolving
    its host now; the relay checks again on every connection."""
    host, port = split_url(url)
    for address in resolve(host, port):
        refusal = address_refusal(address, allow_private=allow_private)
        if refusal:
            raise refused(host, refusal)
