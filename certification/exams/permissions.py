"""Who may do what with the question bank in the admin.

Administrators own the bank (Django model permissions, through their group). A training body may propose
questions: it adds them, and edits or withdraws its own proposals until an administrator has reviewed them;
it never sees the rest of the bank, whose answer keys are exam material.
"""

from wagtail.permission_policies import ModelPermissionPolicy

from accounts.models import Role

TRAINING_BODY_ACTIONS = {"add", "change", "delete", "view"}


def proposes_only(user) -> bool:
    return bool(getattr(user, "is_active", False)) and user.role == Role.TRAINING_BODY and not user.is_superuser


class QuestionPermissionPolicy(ModelPermissionPolicy):
    def user_has_permission(self, user, action):
        if proposes_only(user):
            return action in TRAINING_BODY_ACTIONS
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        if proposes_only(user):
            from .models import Question

            return (
                action in TRAINING_BODY_ACTIONS
                and instance.proposed_by_id == user.pk
                and (action == "view" or instance.status == Question.Status.PROPOSED)
            )
        return super().user_has_permission_for_instance(user, action, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, action, instance) for action in actions)

    def instances_user_has_permission_for(self, user, action):
        if proposes_only(user):
            return self.model.objects.filter(proposed_by=user)
        return super().instances_user_has_permission_for(user, action)


def register_policies() -> None:
    from wagtail.permissions import register_permission_policy

    from accounts.permissions import ReadOnlyPermissionPolicy

    from .models import ExamAttempt, Question

    register_permission_policy(Question, QuestionPermissionPolicy(Question), exact_class=True)
    # Attempts are records of what a candidate did: read in the admin, written only by the exam services.
    register_permission_policy(ExamAttempt, ReadOnlyPermissionPolicy(ExamAttempt), exact_class=True)

    from certification.practicals.permissions import register_policies as register_practical_policies

    register_practical_policies()
