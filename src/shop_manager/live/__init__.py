"""The live dashboard feed.

- :mod:`.protocol`: the wire formats; builds and parses every frame and every
  message between server processes.
- :mod:`.notifier`: the notifier backend that puts committed events on the
  channel layer.
- :mod:`.layer`: the channel layer the feed uses, and the bounded send to it.
- :mod:`.consumer`: one dashboard socket.
- :mod:`.fanout`: one channel-layer subscription per process, handed to its sockets.
- :mod:`.barrier`: holds a process's events until its sockets are checked
  for them (nothing logged after a revocation reaches a revoked socket).
- :mod:`.models`: the access generation every revocation bumps.
- :mod:`.admission`: one socket's check, where it reads the log itself.
- :mod:`.quota`: how many sockets one user may hold open.
- :mod:`.ticker`: heartbeats and the periodic re-validation, per process.
- :mod:`.revalidation`: may each socket's session still watch?
- :mod:`.revocation`: the receivers that close or re-check sockets when access changes.
- :mod:`.groups`: channel-layer group names.
- :mod:`.feed`: the change-log reads the feed needs.
- :mod:`.views`: the dashboard page and its older-events endpoint.
- :mod:`.strings`: every word the dashboard script shows.
- :mod:`.checks`: the system checks for all of the above.

Nothing outside this package imports it but the URLconf, the websocket
routing and app start-up (an import-linter contract in pyproject.toml).
"""
