"""Who may do what: one pluggable permission policy.

The policy is chosen by dotted path in ``SHOP_MANAGER["PERMISSION_POLICY"]``.
Views, the dashboard consumer and templates all ask the same object, so a site
changes the rules in one place.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Literal, cast

from django.core.signals import setting_changed
from django.dispatch import receiver

from shop_manager.conf import SETTING_NAME, get_config, import_from_setting

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser, PermissionsMixin

    User = AbstractBaseUser | AnonymousUser

__all__ = [
    "ACTIONS",
    "BasePermissionPolicy",
    "ModelPermissionsPolicy",
    "StaffPolicy",
    "get_policy",
]

Action = Literal["add", "change", "delete"]
ACTIONS: tuple[Action, ...] = ("add", "change", "delete")


class BasePermissionPolicy:
    """Answers who may view, manage and watch products.

    Subclass it and override any method; the defaults let active users view
    (everyone, unless ``LOGIN_REQUIRED``) and nobody manage, watch or see
    costs.
    """

    def is_active(self, user: User) -> bool:
        return bool(getattr(user, "is_active", False))

    def can_view(self, user: User) -> bool:
        if user.is_authenticated:
            return self.is_active(user)
        return not get_config()["LOGIN_REQUIRED"]

    def can_manage(self, user: User, action: Action) -> bool:
        return False

    def can_watch(self, user: User) -> bool:
        return False

    def can_see_costs(self, user: User) -> bool:
        """Cost price and supplier number (``models.COST_FIELDS``): on pages,
        in search, in the history and in the live feed."""
        return False


class StaffPolicy(BasePermissionPolicy):
    """The default: active staff and superusers manage, watch and see costs;
    others view."""

    def is_staff(self, user: User) -> bool:
        return self.is_active(user) and (
            bool(getattr(user, "is_staff", False))
            or bool(getattr(user, "is_superuser", False))
        )

    def can_manage(self, user: User, action: Action) -> bool:
        return self.is_staff(user)

    def can_watch(self, user: User) -> bool:
        return self.is_staff(user)

    def can_see_costs(self, user: User) -> bool:
        return self.is_staff(user)


class ModelPermissionsPolicy(BasePermissionPolicy):
    """Maps to Django model permissions, for sites that manage roles with groups.

    ``add_product``/``change_product``/``delete_product`` allow managing;
    ``watch_dashboard`` allows watching the live dashboard;
    ``view_product_costs`` shows cost prices and supplier numbers. Superusers
    have all.
    """

    def can_manage(self, user: User, action: Action) -> bool:
        return self.is_active(user) and _has_perm(
            user, f"shop_manager.{action}_product"
        )

    def can_watch(self, user: User) -> bool:
        return self.is_active(user) and _has_perm(user, "shop_manager.watch_dashboard")

    def can_see_costs(self, user: User) -> bool:
        return self.is_active(user) and _has_perm(
            user, "shop_manager.view_product_costs"
        )


def _has_perm(user: User, perm: str) -> bool:
    # Model permissions need a user model with PermissionsMixin (as Django's
    # auth backends and PermissionRequiredMixin do); AbstractBaseUser alone
    # has no has_perm().
    return cast("PermissionsMixin | AnonymousUser", user).has_perm(perm)


@cache
def get_policy() -> BasePermissionPolicy:
    """Return the configured policy instance (built once, reset on settings change)."""
    policy_class: Any = import_from_setting("PERMISSION_POLICY")
    return policy_class()  # type: ignore[no-any-return]


@receiver(setting_changed)
def _clear_cached_policy(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        get_policy.cache_clear()
