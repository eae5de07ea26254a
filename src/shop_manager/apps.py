from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopManagerConfig(AppConfig):
    name = "shop_manager"
    verbose_name = _("Shop manager")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: registering checks and receivers.
        from shop_manager import checks, conf  # noqa: F401
        from shop_manager.changelog import receivers  # noqa: F401
        from shop_manager.live import revocation

        revocation.connect_receivers()
