"""The example project's settings, as production runs them, with the test
suite's password hasher.

Production's PBKDF2 takes about 0.7 s of a core per login, and the security
suite logs in to served example sites hundreds of times (lockouts, hostile
usernames, forged client addresses): minutes of a loaded ``make test`` spent
in the hasher, which none of those tests is about. Django's testing docs
advise a fast hasher for the same reason.
"""

from __future__ import annotations

from example_project.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
