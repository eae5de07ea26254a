"""Settings for relay subprocesses the tests start: the test settings, with
``SHOP_MANAGER`` from the ``SHOP_MANAGER_JSON`` environment variable."""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403

SHOP_MANAGER = json.loads(os.environ.get("SHOP_MANAGER_JSON", "{}"))
