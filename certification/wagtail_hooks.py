from django.utils.translation import gettext_lazy as _
from wagtail import hooks


@hooks.register("register_log_actions")
def register_certification_log_actions(actions):
    actions.register_action("carestar.evaluation.decide", _("Decide star evaluation"), _("Star evaluation decided"))
    actions.register_action("carestar.certificate.issue", _("Issue certificate"), _("Certificate issued"))
    actions.register_action("carestar.certificate.expire", _("Expire certificate"), _("Certificate expired"))
