"""What the tests share, in one package (test modules never import each other):

- :mod:`.users`: users of every role and logged-in clients;
- :mod:`.products`: products made from sync and async tests, form data;
- :mod:`.sockets`: dashboard sockets on the test routing, in process, and
  the frames they receive;
- :mod:`.servers`: real processes (daphne, redis-server), an HTTP session and
  a socket client for them;
- :mod:`.layers`: channel layers that misbehave or record;
- :mod:`.faults`: a TCP proxy that cuts PostgreSQL off, a Redis that freezes;
- :mod:`.waiting`: waiting for a condition, with one bound that only
  turns a hang into a failure (``HANG_BOUND``); no test waits for a time;
- :mod:`.services`: is PostgreSQL / Redis reachable, free ports;
- :mod:`.webhooks`, :mod:`.transfer`: receivers, relays, CSV files;
- :mod:`.example_site`, :mod:`.doc_snippets`: the example project, the docs;
- :mod:`.chaos`, :mod:`.chaos_dashboards`, :mod:`.chaos_verdict`: the chaos
  run (``make chaos``, tests/faults/test_chaos.py), its dashboard client and
  its checks.
"""
