"""Login throttling in the example project (django-axes), driven through
Django's async test client, so the ASGI middleware path daphne uses runs."""

from __future__ import annotations

import json

from tests.helpers.example_site import shell

FAILURE_LIMIT = 5  # The example project's default AXES_FAILURE_LIMIT.
# Runs inside the example project; prints one JSON object.
ATTEMPTS = """
import asyncio, json
from django.contrib.auth import get_user_model
from django.test import AsyncClient

User = get_user_model()
User.objects.create_user("alice", password="alices-password")
User.objects.create_user("bob", password="bobs-password")

async def login(client, username, password):
    response = await client.post(
        "/accounts/login/", {{"username": username, "password": password}}
    )
    return [response.status_code, response.content.decode()]

async def main():
    attacker = AsyncClient()
    wrong = [
        await login(attacker, "alice", f"guess-{{n}}") for n in range({failures})
    ]
    right = await login(attacker, "alice", "alices-password")
    alice_session = await (await attacker.asession()).aget("_auth_user_id")
    other_user = await login(attacker, "bob", "bobs-password")
    bob_session = await (await attacker.asession()).aget("_auth_user_id")
    return {{
        "wrong": [status for status, _ in wrong],
        "right": right,
        "alice_logged_in": alice_session is not None,
        "other_user": other_user[0],
        "bob_logged_in": bob_session is not None,
    }}

print(json.dumps(asyncio.run(main())))
"""


def attempt(db: str, failures: int) -> dict:
    code = ATTEMPTS.format(failures=failures)
    output = shell(code, DEBUG="true", ALLOWED_HOSTS="testserver", SQLITE_PATH=db)
    return json.loads(output.splitlines()[-1])


def test_repeated_wrong_passwords_lock_the_account_from_that_client(example_db):
    """Attack: guess alice's password over and over at /accounts/login/.
    Safe: from the failure limit on every attempt is refused with 429, even
    with the right password, and nobody is logged in; bob, logging in from
    the same address, is unaffected."""
    result = attempt(example_db, failures=FAILURE_LIMIT + 1)

    assert result["wrong"] == [200] * (FAILURE_LIMIT - 1) + [429, 429]
    status, body = result["right"]
    assert status == 429
    assert "too many login attempts" in body
    assert not result["alice_logged_in"]
    assert result["other_user"] == 302
    assert result["bob_logged_in"]


def test_fewer_failures_than_the_limit_still_let_the_owner_in(example_db):
    """A user who mistypes a few times is not locked out."""
    result = attempt(example_db, failures=FAILURE_LIMIT - 1)

    assert result["right"][0] == 302
    assert result["alice_logged_in"]
