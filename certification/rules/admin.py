"""The administrators' screens for star-level rule sets: a ladder that rises, and versions frozen once used."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import quote
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton

from training.models import CoursePage

from .eligibility import rule_set_current
from .ladder import rule_levels_problems
from .models import StarLevelRule, StarRuleSet


def rule_set_frozen_message(count: int) -> str:
    return _(
        "This version has been used by %(count)s evaluations, so it can no longer change. "
        "Copy it to make a new version and change the copy."
    ) % {"count": count}


class LevelAdminForm(WagtailAdminModelForm):
    """One star level's criteria: the courses offered are the published ones (and any already required)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("required_courses")
        if field is not None:
            chosen = [getattr(course, "pk", course) for course in self.initial.get("required_courses") or []]
            field.queryset = CoursePage.objects.filter(Q(live=True) | Q(pk__in=chosen)).order_by("title", "pk")


class LevelInlinePanel(InlinePanel):
    def get_form_options(self):
        options = super().get_form_options()
        options["formsets"][self.relation_name]["form"] = LevelAdminForm
        return options


class RuleSetAdminForm(WagtailAdminModelForm):
    """Refuses a ladder that does not rise from level to level, and any change to a version already used."""

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            used = self.instance.evaluations.count()
            if used:
                self.add_error(None, rule_set_frozen_message(used))
                return cleaned
        levels, courses = [], {}
        for form in self.formsets["levels"].forms:
            valid = form.is_valid()
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            if not valid:
                return cleaned  # the level's own errors come first
            levels.append(form.instance)
            courses[form.instance.level] = {course.pk for course in form.cleaned_data.get("required_courses", [])}
        for problem in rule_levels_problems(levels, courses):
            self.add_error(None, problem)
        return cleaned


def _rule_set_panels() -> list:
    panels = []
    for panel in StarRuleSet.panels:
        if isinstance(panel, InlinePanel):
            level_panels = [
                FieldPanel("required_courses", widget=forms.CheckboxSelectMultiple)
                if getattr(child, "field_name", None) == "required_courses"
                else child
                for child in StarLevelRule.panels
            ]
            panel = LevelInlinePanel(**{**panel.clone_kwargs(), "panels": level_panels})
        panels.append(panel)
    return panels


def next_version(rule_set: StarRuleSet) -> str:
    """The next free version string of the rule set's name: 2 after 1, 2025.2 after 2025.1, v1-2 after v1."""
    taken = set(StarRuleSet.objects.filter(name=rule_set.name).values_list("version", flat=True))
    head = rule_set.version.rstrip("0123456789")
    digits = rule_set.version[len(head) :]
    number, head = (int(digits), head) if digits else (1, f"{rule_set.version}-")
    while True:
        number += 1
        candidate = f"{head}{number}"[: StarRuleSet._meta.get_field("version").max_length]
        if candidate not in taken:
            return candidate


class RuleSetStatusColumn(Column):
    def get_value(self, rule_set):
        if rule_set.in_force:
            return _("In force today")
        if rule_set.effective_from > timezone.localdate():
            return _("From %(date)s") % {"date": rule_set.effective_from.isoformat()}
        return _("Replaced")


class RuleSetIndexView(generic.IndexView):
    def get_base_queryset(self):
        current = rule_set_current()
        return (
            super()
            .get_base_queryset()
            .annotate(
                evaluation_count=Count("evaluations"),
                in_force=Case(
                    When(pk=getattr(current, "pk", None), then=Value(1)), default=Value(0), output_field=IntegerField()
                ),
            )
        )

    def get_delete_url(self, instance):
        if instance.evaluation_count:
            return None
        return super().get_delete_url(instance)


class RuleSetEditView(generic.EditView):
    @cached_property
    def used_by(self) -> int:
        return self.object.evaluations.count()

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.used_by:
            messages.warning(request, rule_set_frozen_message(self.used_by))
        return super().get(request, *args, **kwargs)

    @cached_property
    def can_delete(self):
        return not self.used_by and super().can_delete

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.used_by and (copy_url := self.get_copy_url()):
            buttons.append(HeaderButton(_("Copy to a new version"), url=copy_url, icon_name="copy"))
        return buttons


class RuleSetCopyView(generic.CopyView):
    """The add form, filled in from the version copied, with the next version number and a date to come."""

    def get_initial_form_instance(self):
        original = self.get_object()
        copy, _child_map = original.copy_cluster()
        copy.version = next_version(original)
        copy.effective_from = max(original.effective_from, timezone.localdate() + datetime.timedelta(days=1))
        return copy


class RuleSetDeleteView(generic.DeleteView):
    def dispatch(self, request, *args, **kwargs):
        used = self.object.evaluations.count()
        if used and self.user_has_permission("delete"):
            messages.error(
                request,
                _("This version has been used by %(count)s evaluations and cannot be deleted.") % {"count": used},
            )
            return redirect(self.edit_url_name, quote(self.object.pk))
        return super().dispatch(request, *args, **kwargs)


class RuleSetViewSet(ModelViewSet):
    model = StarRuleSet
    icon = "pick"
    menu_label = gettext_lazy("Star-level rule sets")
    index_view_class = RuleSetIndexView
    edit_view_class = RuleSetEditView
    copy_view_class = RuleSetCopyView
    delete_view_class = RuleSetDeleteView
    edit_handler = ObjectList(_rule_set_panels(), base_form_class=RuleSetAdminForm)
    list_display = [
        "name",
        "version",
        "effective_from",
        RuleSetStatusColumn("in_force", label=pgettext_lazy("rule set column", "In force"), sort_key="in_force"),
        Column("evaluation_count", label=gettext_lazy("Evaluations using it"), sort_key="evaluation_count"),
        "is_illustrative",
    ]
