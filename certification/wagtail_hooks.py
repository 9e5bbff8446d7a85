from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from .exams.wagtail_hooks import exam_attempt_viewset, exam_override_viewset, exam_viewset, question_viewset
from .models import Certificate, Evaluation, StarRuleSet
from .practicals.wagtail_hooks import practical_assessment_viewset, practical_template_viewset


@hooks.register("register_log_actions")
def register_certification_log_actions(actions):
    actions.register_action("carestar.evaluation.decide", _("Decide star evaluation"), _("Star evaluation decided"))
    actions.register_action("carestar.certificate.issue", _("Issue certificate"), _("Certificate issued"))
    actions.register_action("carestar.certificate.expire", _("Expire certificate"), _("Certificate expired"))


class RuleSetViewSet(ModelViewSet):
    model = StarRuleSet
    icon = "pick"
    menu_label = _("Star-level rule sets")
    list_display = ["name", "version", "effective_from", "is_illustrative"]


class EvaluationViewSet(ModelViewSet):
    """Decided evaluations are records: they can be read, never edited in place."""

    model = Evaluation
    icon = "tasks"
    menu_label = _("Star evaluations")
    list_display = ["caregiver", "level", "computed_level", "assessor", "rule_set", "decided_at"]
    list_filter = ["level", "status"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "caregiver",
        "assessor",
        "rule_set",
        "practical_score",
        "computed_level",
        "level",
        "reason",
        "decided_at",
    ]
    copy_view_enabled = False
    form_fields = []


class CertificateViewSet(ModelViewSet):
    model = Certificate
    icon = "success"
    menu_label = _("Certificates")
    list_display = ["serial_number", "holder_name", "star_level", "status", "issued_on", "valid_until"]
    list_filter = ["status", "star_level"]
    search_fields = ["serial_number", "holder_name"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "serial_number",
        "holder_name",
        "holder_national_id_masked",
        "star_level",
        "issuer",
        "issued_on",
        "valid_until",
        "status",
        "pdf_sha256",
    ]
    copy_view_enabled = False
    form_fields = []


class CertificationGroup(ModelViewSetGroup):
    menu_label = _("Certification")
    menu_icon = "success"
    items = [RuleSetViewSet, EvaluationViewSet, CertificateViewSet]


@hooks.register("register_admin_viewset")
def register_certification():
    return CertificationGroup()


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
