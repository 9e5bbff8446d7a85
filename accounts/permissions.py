"""Wagtail admin permission policies shared by the apps."""

from wagtail.permission_policies import ModelPermissionPolicy


class NoAddPermissionPolicy(ModelPermissionPolicy):
    """For profiles that belong to a login account: created with it (import, demo data), never on their own."""

    def user_has_permission(self, user, action):
        return action != "add" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return super().user_has_any_permission(user, [action for action in actions if action != "add"])


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """For records that no one edits in place (decided evaluations, issued certificates)."""

    def user_has_permission(self, user, action):
        if action not in {"view", "inspect"}:
            return False
        return super().user_has_permission(user, "view") or super().user_has_permission(user, "change")

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)
