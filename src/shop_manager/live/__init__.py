"""The live dashboard feed.

- :mod:`.protocol`: the wire format; builds and parses every frame.
- :mod:`.consumer`: one dashboard socket.
- :mod:`.fanout`: one channel-layer subscription per process, handed to its sockets.
- :mod:`.ticker`: heartbeats and the periodic re-validation, per process.
- :mod:`.revalidation`: may each socket's session still watch?
- :mod:`.revocation`: the receivers that close or re-check sockets when access changes.
- :mod:`.groups`: channel-layer group names.
- :mod:`.feed`: the change-log reads the feed needs.
- :mod:`.views`: the dashboard page and its older-events endpoint.
- :mod:`.strings`: every word the dashboard script shows.
"""
