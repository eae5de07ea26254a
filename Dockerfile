# The example project in production form: uvicorn (websockets, no per-message
# deflate: docs/deployment.md "Choosing the server"), PostgreSQL and Redis from
# docker-compose.yml, static files collected at build and served by WhiteNoise.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
# The package with its production extras, then the example project's own
# needs (the `demo` dependency group: daphne, which settings.py lists in
# INSTALLED_APPS, WhiteNoise and django-axes). `--group` needs pip >= 25.1.
COPY pyproject.toml README.md LICENSE ./
COPY src/ src/
RUN python -m pip install --upgrade "pip>=25.1" \
    && python -m pip install ".[postgres,redis,uvicorn]" --group demo

COPY example_project/ example_project/
WORKDIR /app/example_project
# settings.py refuses to load without SECRET_KEY when DEBUG is off; this one
# exists only for collectstatic and is not in the image's environment.
RUN SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput \
    && useradd --system --no-create-home shop
USER shop

EXPOSE 8000
# Migrations on start, then the server as PID 1 so `docker stop` reaches it.
# With several replicas, migrate once as its own step instead: two replicas
# applying the same migration at once can fail. --no-proxy-headers: uvicorn
# would otherwise take the client address from X-Forwarded-For whenever the
# peer is 127.0.0.1; which proxy header to trust is the settings' decision
# alone (BEHIND_PROXY, PROXY_COUNT: docs/deployment.md).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn example_project.asgi:application --host 0.0.0.0 --port 8000 --ws websockets-sansio --ws-per-message-deflate false --no-proxy-headers"]
