"""Outbound safety: which URLs and addresses the relay may connect to.

A webhook URL is typed by whoever manages endpoints, and the relay runs inside
the site's network: without these rules it would POST to the database's admin
port or a cloud metadata service (SSRF). Only ``http``/``https``; every
address a host resolves to must be public, unless
``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` (development). The relay checks the address
it actually connects to (:mod:`.delivery`), so a DNS answer that changes after
these checks (rebinding) is caught too.

IPv6 forms that carry an IPv4 address and reach it (IPv4-mapped and
-compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address too: a NAT64
gateway turns ``64:ff9b::127.0.0.1`` into a connection to its own loopback.

International host names are sent as IDNA (punycode, UTS #46, as browsers do)
and checked by what that name resolves to; a path or query with non-ASCII
characters is percent-encoded. The URL is stored as typed.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from shop_manager.conf import get_config

__all__ = [
    "ALLOWED_SCHEMES",
    "UnsafeURLError",
    "address_refusal",
    "check_url",
    "refused",
    "request_url",
    "split_url",
]

ALLOWED_SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges whose addresses embed an IPv4 address in their last 32 bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052, well-known prefix
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291, deprecated
# Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the
# prefix length the network chose, and it is never global: refused whole.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
# What a request target may hold as is; anything else is percent-encoded.
_UNSAFE_IN_TARGET = re.compile(r"[^\x21-\x7e]+")


class UnsafeURLError(ValueError):
    """The relay refuses to send to this URL or address; the message says why."""


def _parse(url: str) -> tuple[SplitResult, str, int]:
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
    host = _ascii_host(parts.hostname)
    return parts, host, port or (443 if parts.scheme == "https" else 80)


def _ascii_host(hostname: str) -> str:
    if hostname.isascii():
        # As typed: IDNA would refuse names some private networks use
        # ("web_hooks").
        return hostname
    try:
        import idna
    except ImportError as exc:  # pragma: no cover - the webhooks extra has it
        raise UnsafeURLError(
            f"{hostname!r} is an international domain name: sending to it "
            "needs the idna package (the webhooks extra)."
        ) from exc
    try:
        return idna.encode(hostname, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise UnsafeURLError(
            f"{hostname!r} is not a valid international domain name: {exc}"
        ) from exc


def split_url(url: str) -> tuple[str, int]:
    """The host (ASCII, as resolved and sent) and port of an http(s) URL;
    UnsafeURLError for anything else."""
    _, host, port = _parse(url)
    return host, port


# Every request calls it with one of a few URLs: 16 µs each time, 0.1 µs
# from the cache (a bad URL raises, and is not cached).
@functools.lru_cache(maxsize=1024)
def request_url(url: str) -> str:
    """``url`` as it is requested: the host IDNA-encoded, non-ASCII and
    spaces in the path and query percent-encoded (UTF-8), no fragment."""
    parts, host, _ = _parse(url)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(
        (parts.scheme, netloc, _quoted(parts.path) or "/", _quoted(parts.query), "")
    )


def _quoted(text: str) -> str:
    try:
        return _UNSAFE_IN_TARGET.sub(lambda m: quote(m.group(), safe=""), text)
    except UnicodeEncodeError as exc:  # a lone surrogate
        raise UnsafeURLError(f"{text!r} cannot be encoded in a URL.") from exc


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries and would reach, each with
    the name of the form."""
    if ip.ipv4_mapped is not None:
        return [("IPv4-mapped", ip.ipv4_mapped)]
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in NAT64:
        return [("NAT64", low32)]
    if ip.sixtofour is not None:
        return [("6to4", ip.sixtofour)]
    if ip.teredo is not None:
        # The client's address is stored inverted ("obscured"); ipaddress
        # undoes that. Packets go through the server as well.
        server, client = ip.teredo
        return [("Teredo client", client), ("Teredo server", server)]
    # :: and ::1 are themselves (unspecified, loopback), not IPv4 forms.
    if ip in IPV4_COMPATIBLE and int(ip) > 1:
        return [("IPv4-compatible", low32)]
    return []


def address_refusal(address: str, *, allow_private: bool | None = None) -> str | None:
    """Why ``address`` may not be connected to ("10.0.0.1, a private
    address"), or None when it may."""
    if allow_private is None:
        allow_private = get_config()["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]
    if allow_private:
        return None
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        for form, ipv4 in embedded_ipv4(ip):
            kind = _refused_kind(ipv4)
            if kind:
                return f"{address} ({form} {ipv4}), a {kind} address"
        if ip in LOCAL_NAT64:
            return f"{address}, a local-use NAT64 address"
    kind = _refused_kind(ip)
    return f"{address}, a {kind} address" if kind else None


def _refused_kind(ip: IPAddress) -> str | None:
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private or not ip.is_global),
    ):
        if flag:
            return kind
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
