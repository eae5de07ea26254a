"""The client address django-axes locks logins by (``AXES_CLIENT_IP_CALLABLE``).

Only what our own proxies wrote is trusted. Without a proxy (``PROXY_COUNT``
0) it is the TCP peer, ``REMOTE_ADDR``: any client can send X-Forwarded-For,
so the header is never read. Behind ``PROXY_COUNT`` proxies that each append
the address they saw to X-Forwarded-For (nginx's
``$proxy_add_x_forwarded_for``), it is the entry that many places from the
right: the one the outermost of our proxies appended. Entries left of it
came from the client and are ignored, so a client can neither dodge a
lockout by changing them nor lock another address.

A rule this small is kept here rather than in django-ipware: ipware ranks
addresses by kind (public over private over loopback) across headers and,
strict, falls back to the proxy's own address when a client adds an entry,
where this must be exactly "the entry our proxy appended".
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

__all__ = ["client_address"]


def client_address(request: HttpRequest) -> str | None:
    peer: str | None = request.META.get("REMOTE_ADDR")
    # Unset: no proxy, the safe reading for a site that copies only this file.
    proxies: int = getattr(settings, "PROXY_COUNT", 0)
    if not proxies:
        return peer
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    if forwarded == [""]:
        # Not through the proxy (a health check on the host, say): the peer.
        return peer
    # Fewer entries than proxies: the request entered behind the outermost
    # one, and the leftmost entry is what the first of ours saw.
    entry = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        # Not something our proxy writes. The peer (the proxy itself) keys
        # such requests together, apart from every real client's.
        return peer
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        # A dual-stack proxy may write "::ffff:203.0.113.7": one client, one key.
        return str(address.ipv4_mapped)
    return str(address)
