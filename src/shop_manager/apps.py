from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _

# Features whose models are registered under this app (their tables are in
# its migrations), each in its own package: ``shop_manager.<feature>.models``.
FEATURE_MODELS = ("webhooks", "live")
# Features that register their own admin: ``shop_manager.<feature>.admin``.
FEATURE_ADMINS = ("webhooks",)
# Features with system checks of their own: ``shop_manager.<feature>.checks``.
FEATURE_CHECKS = ("live", "notifiers", "transfer", "webhooks")


class ShopManagerConfig(AppConfig):
    name = "shop_manager"
    verbose_name = _("Shop manager")
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self) -> None:
        super().import_models()
        # Now, while Django imports every app's models: registered any later,
        # they would miss the app registry's first look (migrations, relations).
        for feature in FEATURE_MODELS:
            import_module(f"shop_manager.{feature}.models")

    def ready(self) -> None:
        # Imported for their side effects: registering checks and receivers.
        from shop_manager import checks, conf, notifiers  # noqa: F401
        from shop_manager.changelog import receivers  # noqa: F401
        from shop_manager.live import revocation

        for feature in FEATURE_CHECKS:
            import_module(f"shop_manager.{feature}.checks")
        revocation.connect_receivers()
        if apps.is_installed("django.contrib.admin"):
            # As the admin's autodiscovery imports shop_manager.admin.
            for feature in FEATURE_ADMINS:
                import_module(f"shop_manager.{feature}.admin")
