"""A ``check`` for psycopg's connection pool that survives a database outage.

A database restart or a network cut kills every connection the pool holds,
but each still looks healthy until it is used. With Django's
``CONN_HEALTH_CHECKS`` the pool checks a connection before handing it out
(psycopg's ``ConnectionPool.check_connection``) and, after each failed
check, waits longer before the next: 0, 1, 2, 4, ... s. So with the default
four connections idle in the pool, the first request after the outage would
wait 7 s, and within a 5 s pool timeout got no connection at all: a 500 page
or a 500 on the dashboard's handshake. This check does the same test and, at the first
dead connection, has the pool test all its idle ones at once, dropping the
ones that died with it, so a request waits for one new connection at most.

Set it with Django 6.1 or later (earlier versions pass the pool's ``check``
themselves and refuse another), as docs/deployment.md shows::

    from shop_manager.pool_check import check_pooled_connection

    DATABASES["default"]["OPTIONS"] = {
        "pool": {"check": check_pooled_connection, "timeout": 5, ...}
    }
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_pooled_connection"]


def check_pooled_connection(connection: Any) -> None:
    """Return quietly if ``connection`` works, else raise; a dead one makes
    its pool check every connection idle in it first."""
    from psycopg_pool import ConnectionPool

    try:
        ConnectionPool.check_connection(connection)
    except Exception:
        # psycopg sets _pool on a connection it hands out (Django's own
        # close() returns it there the same way).
        pool = getattr(connection, "_pool", None)
        if pool is not None:
            pool.check()
        raise
