"""Signed webhooks on the change log (the transactional-outbox pattern).

Endpoints are rows (:mod:`.models`); the relay (:mod:`.relay`, run by
``manage.py shop_manager_relay``) reads the log from each endpoint's cursor and
POSTs every event, signed per the Standard Webhooks specification
(:mod:`.signing`), with the body :mod:`.payloads` builds, over connections
:mod:`.safety` vets. docs/webhooks.md is the user's guide.
"""

from __future__ import annotations
