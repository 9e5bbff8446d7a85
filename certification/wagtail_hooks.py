from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSetGroup
from wagtail.snippets.models import register_snippet

from .certificates.admin import (
    CertificateActionViewSet,
    CertificateBatchViewSet,
    CertificateTemplateViewSet,
    CertificateViewSet,
)
from .evaluations.admin import EvaluationViewSet
from .evaluations.appeal_admin import AppealViewSet
from .exams.admin import exam_attempt_viewset, exam_override_viewset, exam_viewset, question_viewset
from .practicals.admin import practical_assessment_viewset, practical_template_viewset
from .rules.admin import RuleSetViewSet
from .servicedata import admin as servicedata_admin  # noqa: F401  (service data screens and log actions)


@hooks.register("register_log_actions")
def register_certification_log_actions(actions):
    for action, label, message in [
        ("open", _("Open star evaluation"), _("Star evaluation opened")),
        ("assign", _("Assign assessor"), _("Assessor assigned")),
        ("propose", _("Propose star level"), _("Star level proposed")),
        ("return", _("Return proposal"), _("Proposal returned to the assessor")),
        ("decide", _("Decide star evaluation"), _("Star evaluation decided")),
        ("withdraw", _("Withdraw star evaluation"), _("Star evaluation withdrawn")),
        ("downgrade", _("Downgrade star level"), _("Star level downgraded")),
        ("notify", _("Notify the caregiver"), _("Caregiver notified of the decision")),
    ]:
        actions.register_action(f"carestar.evaluation.{action}", label, message)
    actions.register_action("carestar.appeal.file", _("File appeal"), _("Appeal filed"))
    actions.register_action("carestar.appeal.decide", _("Decide appeal"), _("Appeal decided"))
    actions.register_action("carestar.round.open", _("Open evaluation round"), _("Evaluation round opened"))
    actions.register_action("carestar.certificate.issue", _("Issue certificate"), _("Certificate issued"))
    actions.register_action("carestar.certificate.expire", _("Expire certificate"), _("Certificate expired"))
    actions.register_action("carestar.certificate.revoke", _("Revoke certificate"), _("Certificate revoked"))
    actions.register_action("carestar.certificate.reissue", _("Re-issue certificate"), _("Certificate re-issued"))
    actions.register_action("carestar.certificate.supersede", _("Supersede certificate"), _("Certificate superseded"))
    actions.register_action("carestar.certificate.batch", _("Issue certificate batch"), _("Certificate batch queued"))


class CertificationGroup(ModelViewSetGroup):
    menu_label = _("Certification")
    menu_icon = "success"
    items = [RuleSetViewSet, EvaluationViewSet, AppealViewSet, CertificateViewSet, CertificateBatchViewSet]


@hooks.register("register_admin_viewset")
def register_certification():
    return CertificationGroup()


@hooks.register("register_admin_viewset")
def register_certificate_actions():
    return CertificateActionViewSet()


register_snippet(CertificateTemplateViewSet)


class ExamsGroup(ModelViewSetGroup):
    menu_label = _("Exams and assessments")
    menu_icon = "form"
    items = [
        question_viewset,
        exam_viewset,
        exam_override_viewset,
        exam_attempt_viewset,
        practical_template_viewset,
        practical_assessment_viewset,
    ]


@hooks.register("register_admin_viewset")
def register_exams():
    return ExamsGroup()


# --- Re-evaluation: rounds, the due list, nominations (certification/evaluations/round_admin.py) ---------


@hooks.register("register_admin_viewset")
def register_re_evaluation():
    from .evaluations.round_admin import ReEvaluationGroup

    return ReEvaluationGroup()


@hooks.register("register_log_actions")
def register_re_evaluation_log_actions(actions):
    actions.register_action(
        "carestar.evaluation.due_notice", _("Re-evaluation due notice"), _("Managers told the re-evaluation falls due")
    )
