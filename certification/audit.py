"""The audit trail: what each logged step changed, before → after, read back from Wagtail's log entries."""

from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.widgets import HeaderButton
from wagtail.log_actions import registry as log_registry


def _display(model, key: str, value, names: dict) -> str:
    if value is None or value == "":
        return "—"
    try:
        field = model._meta.get_field(key)
    except Exception:
        return str(value)
    if field.is_relation:
        return names.get((field.related_model, value), str(value))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _label(model, key: str) -> str:
    try:
        return str(model._meta.get_field(key).verbose_name)
    except Exception:
        return key


def log_entries_names(entries) -> dict:
    """Names of the people and rule sets the entries' before/after states refer to, in one query per model."""
    wanted: dict = {}
    for entry in entries:
        model = entry.content_type.model_class()
        for state in _states(entry):
            for key, value in state.items():
                try:
                    field = model._meta.get_field(key)
                except Exception:
                    continue
                if field.is_relation and value is not None:
                    wanted.setdefault(field.related_model, set()).add(value)
    names = {}
    for model, ids in wanted.items():
        for instance in model.objects.filter(pk__in=ids):
            names[(model, instance.pk)] = str(instance)
    return names


def _states(entry) -> list[dict]:
    data = entry.data or {}
    return [state for state in (data.get("before"), data.get("after")) if isinstance(state, dict)]


def log_entry_changes(entry, names: dict) -> list[str]:
    """Each value that the logged step changed, as 'label: before → after' (or the value set when it began)."""
    data = entry.data or {}
    before, after = data.get("before"), data.get("after")
    if not isinstance(after, dict):
        return []
    model = entry.content_type.model_class()
    changes = []
    for key, value in after.items():
        if before is None and not value:
            continue  # a record just opened: only what it began with
        if isinstance(before, dict):
            if before.get(key) == value:
                continue
            old = _display(model, key, before.get(key), names)
            changes.append(f"{_label(model, key)}: {old} → {_display(model, key, value, names)}")
        else:
            changes.append(f"{_label(model, key)}: {_display(model, key, value, names)}")
    if data.get("cause"):
        changes.append(_("Cause: %(cause)s") % {"cause": data["cause"]})
    return changes


def audit_trail(instance) -> list[dict]:
    """The object's log entries, oldest first, each with its changes (a fixed number of queries)."""
    entries = list(log_registry.get_logs_for_instance(instance).select_related("user", "content_type"))
    entries.sort(key=lambda entry: (entry.timestamp, entry.pk))
    names = log_entries_names(entries)
    return [{"entry": entry, "changes": log_entry_changes(entry, names)} for entry in entries]


class ChangesColumn(Column):
    """Before → after for each log entry of one object's history."""

    cell_template_name = "certification/admin/changes_cell.html"

    def __init__(self, *args, instance, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance

    @cached_property
    def names(self) -> dict:
        return log_entries_names(log_registry.get_logs_for_instance(self.instance).select_related("content_type"))

    def get_value(self, entry):
        return log_entry_changes(entry, self.names)


class AuditHistoryView(HistoryView):
    """The history of a record no one edits in place: readable with the view permission, with what changed."""

    any_permission_required = ["view"]
    inspect_url_name = None

    @cached_property
    def columns(self):
        columns = list(super().columns)
        columns.insert(1, ChangesColumn("changes", label=gettext_lazy("Before → after"), instance=self.object))
        return columns

    def get_edit_url(self, instance):
        return None

    @cached_property
    def header_buttons(self):
        if not self.inspect_url_name:
            return []
        return [
            HeaderButton(
                _("Inspect"), url=reverse(self.inspect_url_name, args=[quote(self.object.pk)]), icon_name="info-circle"
            )
        ]
