"""Who may use the service data screens: the bureau's administrators only, with no group permission involved."""

from django.db.models import Q
from wagtail.permission_policies import BasePermissionPolicy
from wagtail.permissions import register_permission_policy

from accounts.models import Role, User

from .models import ServiceDataClient, ServiceDataImport, ServiceIncident, ServiceMonth


class AdministratorPermissionPolicy(BasePermissionPolicy):
    """The bureau's administrators, and no one else, may do these actions; no group permission is involved."""

    def __init__(self, model, actions):
        super().__init__(model)
        self.actions = frozenset(actions)

    def user_has_permission(self, user, action):
        return action in self.actions and getattr(user, "is_administrator", False)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def users_with_any_permission(self, actions):
        if not self.actions.intersection(actions):
            return User.objects.none()
        return User.objects.filter(Q(is_superuser=True) | Q(role=Role.ADMINISTRATOR), is_active=True)


READ_ONLY = {"view", "inspect"}


def register_policies() -> None:
    # Clients are never deleted (their imports refer to them): they are deactivated.
    register_permission_policy(
        ServiceDataClient,
        AdministratorPermissionPolicy(ServiceDataClient, READ_ONLY | {"add", "change"}),
        exact_class=True,
    )
    for model in (ServiceDataImport, ServiceMonth, ServiceIncident):
        register_permission_policy(model, AdministratorPermissionPolicy(model, READ_ONLY), exact_class=True)
