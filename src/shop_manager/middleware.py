"""Run a site's middleware in one thread under ASGI.

Django builds the middleware chain from the inside out and keeps each
middleware in the mode of the one inside it while it can. Under ASGI the
innermost handler is async, so every middleware that can be async is: and
Django's own (``MiddlewareMixin``: sessions, CSRF, authentication, messages
...) then call each ``process_request`` and ``process_response`` through
``sync_to_async``, a round trip from the event loop to a thread and back
per method, about a dozen a request. While the loop writes events to many
sockets, each of those waits its turn: with 100 dashboards open on one
uvicorn process, a change made through the form (the product page, the
form, its POST, the page it redirects to) took 1.3 s at the median instead
of 70 ms (benchmarks/README.md, "The form under load").

A sync-only middleware last in ``MIDDLEWARE`` makes the whole chain sync:
Django then runs it in one thread, with one round trip to the loop to
resolve the URL and none more. ``shop_manager.W009`` says when it is not
last. Under WSGI it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

__all__ = ["SyncChainMiddleware"]


class SyncChainMiddleware:
    """Put last in ``MIDDLEWARE``: the middleware before it run in one thread."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)
