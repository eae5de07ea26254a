"""The signal the change log sends: the one way it tells the rest of the
package (and a host) about changes, so it imports none of its listeners.

``shop_manager.notifiers`` connects to it; a host may connect its own
receivers just as well::

    from django.dispatch import receiver
    from shop_manager.changelog.signals import events_committed

    @receiver(events_committed)
    def audit(sender, events, bulk, **kwargs):
        ...
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["events_committed"]

# Sent once the transaction that logged product events has committed; never
# for one that rolled back. Receivers run in that request's thread, after
# commit: a receiver that raises is logged and the others still run, and the
# change stays saved and logged.
#
# Provides the arguments:
#   sender: the ``ProductEvent`` class.
#   events: the committed ``ProductEvent`` rows, oldest first.
#   bulk: ``True`` for a bulk change (a CSV import, via
#     ``changelog.announced_together``): announce it with one bounded notice,
#     since the log holds every event; ``False`` for changes one by one.
events_committed = Signal()
