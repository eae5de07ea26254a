"""Fault cases: each test states the fault and asserts the safe outcome.

Here: concurrent writers on PostgreSQL (test_concurrency), rollbacks and
savepoints (test_transactions), Redis hung and killed (test_redis_outage),
every fault at once under load on two served processes (test_chaos).
Cases needing real server processes are in tests/e2e/test_faults.py (marked
``fault``). Faults already covered by other tests, not repeated here:

- a notifier that raises: tests/notifiers/test_backends.py::
  test_a_raising_backend_fails_neither_the_save_nor_the_others and
  test_a_raising_backend_does_not_fail_the_http_post;
- a channel layer that hangs or refuses: tests/notifiers/test_backends.py::
  test_a_redis_outage_neither_fails_nor_holds_a_save;
- a rolled-back create or update: tests/changelog/test_changelog_writer.py::
  test_a_rolled_back_change_logs_and_notifies_nothing and
  test_a_rolled_back_update_keeps_the_old_log;
- a browser dashboard across a server restart and a Redis restart:
  tests/e2e/test_browser.py.
"""
