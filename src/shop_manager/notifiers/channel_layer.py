"""Deprecated: the channel-layer notifier moved to
``shop_manager.live.notifier.ChannelLayerNotifier``, with the feed it feeds.

The old dotted path still works, with a ``DeprecationWarning``
(docs/upgrading.md). Looked up by name, so this package, below the live feed,
imports nothing of it.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import Any

__all__ = ["ChannelLayerNotifier"]  # noqa: F822 - provided by __getattr__

NEW_PATH = "shop_manager.live.notifier.ChannelLayerNotifier"


def __getattr__(name: str) -> Any:
    if name != "ChannelLayerNotifier":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"shop_manager.notifiers.channel_layer.ChannelLayerNotifier is now "
        f"{NEW_PATH}: change the BACKEND in SHOP_MANAGER['NOTIFIERS'].",
        DeprecationWarning,
        stacklevel=2,
    )
    module, _, attribute = NEW_PATH.rpartition(".")
    return getattr(import_module(module), attribute)
