"""How the Wagtail admin shows field values that it would otherwise show as stored."""

from django.utils import formats, timezone
from django.utils.html import conditional_escape
from wagtail.admin.ui.components import Component


class LocalDateTimeDisplay(Component):
    """A date and time as people here read it, in the active time zone (Asia/Shanghai), never as stored (UTC).

    Wagtail's inspect pages render a value with `|localize`, which formats an aware datetime in UTC.
    """

    def __init__(self, value):
        self.value = value

    def render_html(self, parent_context=None):
        if self.value is None:
            return "—"
        value = timezone.localtime(self.value) if timezone.is_aware(self.value) else self.value
        return conditional_escape(formats.localize(value))


def register_display_classes() -> None:
    from django.db import models
    from wagtail.admin.ui.fields import register_display_class

    register_display_class(models.DateTimeField, display_class=LocalDateTimeDisplay)
