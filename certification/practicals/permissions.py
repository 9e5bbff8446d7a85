from wagtail.permission_policies import ModelPermissionPolicy

from .models import PracticalAssessment


class AssignmentPermissionPolicy(ModelPermissionPolicy):
    """Assignments are added and withdrawn, never edited: the result belongs to the assessor's scoring."""

    def user_has_permission(self, user, action):
        return action != "change" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return super().user_has_any_permission(user, [action for action in actions if action != "change"])


def register_policies() -> None:
    from wagtail.permissions import register_permission_policy

    register_permission_policy(PracticalAssessment, AssignmentPermissionPolicy(PracticalAssessment), exact_class=True)
