"""Admin screens for the question bank (with import, proposals and item analysis), exams, overrides and attempts."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.admin.widgets.button import MenuItem

from accounts.choosers import AdministratorsSearchChooserViewSet, SearchFilterForm
from accounts.guards import administrator_required
from content.exports import CSV_CONTENT_TYPE, attachment

from . import imports, selectors, services
from .models import Exam, ExamAttempt, ExamOverride, Question
from .permissions import QuestionPermissionPolicy, proposes_only


@hooks.register("register_log_actions")
def register_exam_log_actions(actions):
    actions.register_action("carestar.question.accept", _("Accept question"), _("Question accepted into the bank"))
    actions.register_action("carestar.question.reject", _("Reject question"), _("Question rejected"))
    actions.register_action("carestar.question.retire", _("Retire question"), _("Question retired"))
    actions.register_action("carestar.question.import", _("Import questions"), _("Questions imported"))


class QuestionFilterForm(SearchFilterForm):
    def matching(self, query: str) -> Q:
        return Q(text__icontains=query)


class QuestionChooserViewSet(AdministratorsSearchChooserViewSet):
    """Exams pick fixed questions from the active bank by searching it, not from a list of thousands."""

    model = Question
    icon = "help"
    choose_one_text = gettext_lazy("Choose a question")
    choose_another_text = gettext_lazy("Choose another question")
    filter_form_class = QuestionFilterForm

    def chooser_queryset(self):
        return Question.objects.filter(status=Question.Status.ACTIVE).order_by("-id")


question_chooser_viewset = QuestionChooserViewSet("question_chooser")


@hooks.register("register_admin_viewset")
def register_question_chooser():
    return question_chooser_viewset


# --- Question bank -------------------------------------------------------------------------------------


class QuestionAdminForm(WagtailAdminModelForm):
    """A question's options must make sense for its kind before it can be saved."""

    def clean(self):
        cleaned = super().clean()
        options = [
            form
            for form in self.formsets["choices"].forms
            if form.is_valid() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        correct = sum(1 for form in options if form.cleaned_data.get("is_correct"))
        kind = cleaned.get("kind")
        if kind == Question.Kind.TRUE_FALSE and len(options) != 2:
            self.add_error(None, _("A true-or-false question has exactly two options."))
        if kind in (Question.Kind.SINGLE, Question.Kind.TRUE_FALSE) and correct != 1:
            self.add_error(None, _("Mark exactly one option as correct."))
        if kind == Question.Kind.MULTIPLE and correct < 2:
            self.add_error(None, _("A multiple-choice question has at least two correct options."))
        return cleaned


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _discrimination(question) -> str:
    value = selectors.point_biserial(
        responses=question.responses,
        facility=question.facility,
        score_sum=question.score_sum,
        score_square_sum=question.score_square_sum,
        score_right_sum=question.score_right_sum,
    )
    return "—" if value is None else f"{value:.2f}"


class QuestionIndexView(generic.IndexView):
    def get_base_queryset(self):
        queryset = selectors.questions_with_item_analysis(
            super().get_base_queryset().select_related("service_item", "clause__standard")
        )
        if proposes_only(self.request.user):
            queryset = queryset.filter(proposed_by=self.request.user)
        return queryset

    @property
    def header_buttons(self):
        buttons = super().header_buttons
        if self.user_has_permission("add"):
            buttons.append(
                HeaderButton(_("Import from a file"), url=reverse("certification_question_import"), icon_name="upload")
            )
        return buttons

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if services.QUESTION_TRANSITIONS[instance.status] and self.request.user.is_administrator:
            buttons.append(
                MenuItem(
                    _("Accept or reject") if instance.status == Question.Status.PROPOSED else _("Change status"),
                    url=reverse("certification_question_review", args=[instance.pk]),
                    icon_name="tick",
                    priority=5,
                )
            )
        return buttons


class QuestionCreateView(generic.CreateView):
    def save_instance(self):
        self.form.instance.status = services.question_status_for_author(user=self.request.user)
        if self.form.instance.status == Question.Status.PROPOSED:
            self.form.instance.proposed_by = self.request.user
        return super().save_instance()


class InstanceCheckedMixin:
    """Wagtail checks the model permission; a training body may touch only its own proposals."""

    def get_object(self, *args, **kwargs):
        instance = super().get_object(*args, **kwargs)
        if not self.permission_policy.user_has_permission_for_instance(
            self.request.user, self.permission_required or "view", instance
        ):
            raise PermissionDenied
        return instance


class QuestionEditView(InstanceCheckedMixin, generic.EditView):
    pass


class QuestionDeleteView(InstanceCheckedMixin, generic.DeleteView):
    pass


class QuestionHistoryView(InstanceCheckedMixin, generic.HistoryView):
    pass


class QuestionUsageView(InstanceCheckedMixin, generic.UsageView):
    pass


class QuestionInspectView(InstanceCheckedMixin, generic.InspectView):
    def get_object(self, queryset=None):
        instance = super().get_object(queryset)
        return selectors.questions_with_item_analysis(Question.objects.filter(pk=instance.pk)).get()

    def get_field_label(self, field_name, field):
        labels = {
            "responses": _("Graded answers"),
            "facility": _("Facility (share correct)"),
            "discrimination": _("Discrimination (point-biserial)"),
        }
        return labels.get(field_name) or super().get_field_label(field_name, field)

    def get_field_display_value(self, field_name, field):
        if field_name == "facility":
            return _percent(self.object.facility)
        if field_name == "discrimination":
            return _discrimination(self.object)
        if field_name == "responses":
            return self.object.responses
        return super().get_field_display_value(field_name, field)


class QuestionViewSet(ModelViewSet):
    model = Question
    icon = "help"
    menu_label = gettext_lazy("Question bank")
    add_to_admin_menu = False
    index_view_class = QuestionIndexView
    add_view_class = QuestionCreateView
    edit_view_class = QuestionEditView
    delete_view_class = QuestionDeleteView
    inspect_view_class = QuestionInspectView
    history_view_class = QuestionHistoryView
    usage_view_class = QuestionUsageView
    inspect_view_enabled = True
    copy_view_enabled = False
    edit_handler = ObjectList(Question.panels, base_form_class=QuestionAdminForm)
    list_display = [
        "text",
        "kind",
        "status",
        "difficulty",
        "service_item",
        Column("responses", label=gettext_lazy("Graded answers"), sort_key="responses"),
        Column(
            "facility", label=gettext_lazy("Facility"), accessor=lambda q: _percent(q.facility), sort_key="facility"
        ),
        Column("discrimination", label=gettext_lazy("Discrimination"), accessor=_discrimination),
    ]
    list_filter = ["status", "kind", "difficulty", "star_level", "service_item"]
    search_fields = ["text"]
    inspect_view_fields = [
        "text",
        "kind",
        "status",
        "clause",
        "service_item",
        "difficulty",
        "star_level",
        "proposed_by",
        "reviewed_by",
        "reviewed_at",
        "responses",
        "facility",
        "discrimination",
    ]


class QuestionImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel workbook (.xlsx) or CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


@require_http_methods(["GET", "POST"])
def question_import(request):
    policy = QuestionPermissionPolicy(Question)
    if not policy.user_has_permission(request.user, "add"):
        raise PermissionDenied
    form = QuestionImportForm(request.POST or None, request.FILES or None)
    row_errors = []
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # One byte past the limit is enough for the reader to refuse the file; the rest is never read.
            content = upload.read(imports.MAX_BYTES + 1)
            questions = imports.questions_import(name=upload.name, content=content, user=request.user)
        except ValidationError as error:
            row_errors = error.messages
        else:
            messages.success(request, _("%(count)s questions imported.") % {"count": len(questions)})
            return redirect(question_viewset.get_url_name("index"))
    return TemplateResponse(
        request,
        "certification/admin/question_import.html",
        {"form": form, "row_errors": row_errors, "index_url": reverse(question_viewset.get_url_name("index"))},
    )


def question_import_template(request, file_format: str):
    if not QuestionPermissionPolicy(Question).user_has_permission(request.user, "add"):
        raise PermissionDenied
    if file_format == "xlsx":
        response = HttpResponse(
            imports.template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(imports.template_csv(), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = attachment(f"题目导入模板.{file_format}")
    return response


@require_http_methods(["GET", "POST"])
def question_review(request, question_id: int):
    administrator_required(request)
    question = get_object_or_404(Question.objects.prefetch_related("choices"), pk=question_id)
    if request.method == "POST":
        try:
            services.question_status_change(question=question, reviewer=request.user, status=request.POST.get("status"))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Question reviewed."))
        return redirect(question_viewset.get_url_name("index"))
    choices = dict(Question.Status.choices)
    return TemplateResponse(
        request,
        "certification/admin/question_review.html",
        {
            "question": question,
            "targets": [(status, choices[status]) for status in sorted(services.QUESTION_TRANSITIONS[question.status])],
        },
    )


@hooks.register("register_admin_urls")
def register_question_urls():
    return [
        path("questions/import/", question_import, name="certification_question_import"),
        path(
            "questions/import/template.<str:file_format>",
            question_import_template,
            name="certification_question_import_template",
        ),
        path("questions/<int:question_id>/review/", question_review, name="certification_question_review"),
    ]


# --- Exams, overrides, attempts ------------------------------------------------------------------------


class ExamViewSet(ModelViewSet):
    model = Exam
    icon = "form"
    menu_label = gettext_lazy("Theory exams")
    add_to_admin_menu = False
    list_display = ["title", "course", "time_limit_minutes", "pass_mark", "opens_at", "closes_at", "is_open"]
    list_filter = ["is_open"]
    search_fields = ["title"]


class ExamOverrideIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("exam", "caregiver__user")


class ExamOverrideViewSet(ModelViewSet):
    model = ExamOverride
    icon = "time"
    menu_label = gettext_lazy("Exam overrides")
    add_to_admin_menu = False
    index_view_class = ExamOverrideIndexView
    form_fields = ["exam", "caregiver", "extra_minutes", "extra_attempts", "reason"]
    list_display = ["caregiver", "exam", "extra_minutes", "extra_attempts", "reason"]
    list_filter = ["exam"]
    copy_view_enabled = False


class ExamAttemptIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("exam", "caregiver__user")


class ExamAttemptViewSet(ModelViewSet):
    model = ExamAttempt
    icon = "doc-full"
    menu_label = gettext_lazy("Exam attempts")
    add_to_admin_menu = False
    index_view_class = ExamAttemptIndexView
    list_display = ["caregiver", "exam", "started_at", "deadline", "submitted_at", "auto_submitted", "score", "passed"]
    list_filter = ["exam", "passed", "auto_submitted"]
    search_fields = ["caregiver__user__name"]
    form_fields = []
    inspect_view_enabled = True
    inspect_view_fields = ["caregiver", "exam", "started_at", "deadline", "submitted_at", "auto_submitted", "score"]
    copy_view_enabled = False


question_viewset = QuestionViewSet("questions")
exam_viewset = ExamViewSet("exams")
exam_override_viewset = ExamOverrideViewSet("exam_overrides")
exam_attempt_viewset = ExamAttemptViewSet("exam_attempts")
