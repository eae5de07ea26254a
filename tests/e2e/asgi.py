"""``tests.asgi`` plus static files, so a real browser gets the dashboard's
JavaScript and CSS from the server process. ``DEBUG`` stays ``False``: the
staticfiles handler serves from the app directories regardless."""

from __future__ import annotations

from channels.routing import ProtocolTypeRouter
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from tests.asgi import application as tests_application
from tests.asgi import django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": tests_application.application_mapping["websocket"],
    }
)
