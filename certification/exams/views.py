"""Caregivers' exam pages: start or resume, the paper (with or without JavaScript), the per-answer endpoint."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.guards import caregiver_required

from . import selectors, services
from .models import Exam, ExamAttempt
from .options import option_values, options_decode


def _own_attempt(request, attempt_id: int) -> ExamAttempt:
    """The caregiver's own attempt, submitted first if its time ran out since the last request."""
    caregiver = caregiver_required(request)
    # Someone else's attempt is reported as missing, not as forbidden: ids reveal nothing.
    attempt = get_object_or_404(ExamAttempt.objects.select_related("exam"), pk=attempt_id, caregiver=caregiver)
    return services.attempt_close_if_overdue(attempt=attempt)


def _remaining_seconds(attempt: ExamAttempt) -> int:
    return max(0, int((attempt.deadline - timezone.now()).total_seconds()))


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _exam_text() -> dict[str, str]:
    """What the exam page's script says, translated here so that the script itself holds no language."""
    return {
        "saving": _("Saving…"),
        "saved": "✓ " + _("Saved"),
        "unanswered": _("Not answered yet"),
        "failed": _("Not saved yet: it will be sent again automatically"),
        "offline": _("No connection: your answers wait on this phone and are sent when the connection returns."),
        "login": _("Your login has expired: log in again in another tab; your answers wait on this phone."),
        "time_up": _("Time is up: submitting your answers…"),
        "confirm": _("%(count)s questions are not answered yet. Submit for grading anyway?"),
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def exam_start(request, exam_id: int):
    caregiver = caregiver_required(request)
    exam = get_object_or_404(Exam, pk=exam_id)
    if request.method == "POST":
        try:
            attempt = services.attempt_start(caregiver=caregiver, exam=exam)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("certification:exam_start", exam_id=exam.pk)
        return redirect("certification:attempt", attempt_id=attempt.pk)
    standing = selectors.exam_standing(caregiver=caregiver, exam=exam)
    if (
        standing.open_attempt is not None
        and not services.attempt_close_if_overdue(attempt=standing.open_attempt).is_open
    ):
        standing = selectors.exam_standing(caregiver=caregiver, exam=exam)
    attempts = [(attempt, selectors.attempt_review(attempt=attempt)) for attempt in standing.attempts]
    return render(
        request,
        "certification/exam_start.html",
        {"exam": exam, "standing": standing, "attempts": attempts},
    )


def _answers_from_post(request, attempt: ExamAttempt) -> dict[int, list[int]]:
    """Every question shown on the page, answered or cleared; a question left blank saves as unanswered."""
    try:
        shown = {int(value) for value in request.POST.getlist("shown")}
        shown |= {int(key[1:]) for key in request.POST if key.startswith("q") and key[1:].isdigit()}
    except ValueError:
        raise ValidationError(_("The answer form was damaged; please reload the page."))
    answers = {question_id: request.POST.getlist(f"q{question_id}") for question_id in shown}
    return options_decode(attempt=attempt, answers=answers)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def attempt(request, attempt_id: int):
    attempt = _own_attempt(request, attempt_id)
    if not attempt.is_open:
        if attempt.auto_submitted:
            messages.info(request, _("Time is up: your attempt was submitted with the answers saved until then."))
        return redirect("certification:attempt_result", attempt_id=attempt.pk)
    if request.method == "POST":
        try:
            services.attempt_answers_save(attempt=attempt, answers=_answers_from_post(request, attempt))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            if "submit" not in request.POST:
                return redirect("certification:attempt", attempt_id=attempt.pk)
        if "submit" in request.POST:
            services.attempt_submit(attempt=attempt)
            return redirect("certification:attempt_result", attempt_id=attempt.pk)
        messages.success(request, _("Your answers are saved."))
        return redirect("certification:attempt", attempt_id=attempt.pk)
    paper = selectors.attempt_paper(attempt=attempt)
    return render(
        request,
        "certification/attempt.html",
        {
            "attempt": attempt,
            "paper": paper,
            "answered": sum(1 for item in paper if item.is_answered),
            "remaining_seconds": _remaining_seconds(attempt),
            "remaining_display": _clock(_remaining_seconds(attempt)),
            "exam_text": _exam_text(),
        },
    )


def _closed_response(attempt: ExamAttempt, message: str) -> JsonResponse:
    return JsonResponse(
        {
            "ok": False,
            "closed": True,
            "error": message,
            "redirect": reverse("certification:attempt_result", kwargs={"attempt_id": attempt.pk}),
        },
        status=409,
    )


@login_required
@never_cache
@require_POST
def attempt_answer(request, attempt_id: int):
    """Save one answer: {"question": id, "choices": [ids], "revision": n}. Safe to repeat; CSRF-protected."""
    attempt = _own_attempt(request, attempt_id)
    if not attempt.is_open:
        return _closed_response(attempt, _("This attempt has already been submitted."))
    try:
        payload = json.loads(request.body or b"{}")
        question_id = int(payload["question"])
        values = payload.get("choices", [])
        if not isinstance(values, list) or not all(isinstance(value, str) and len(value) < 64 for value in values):
            raise ValueError(values)
        revision = int(payload["revision"]) if payload.get("revision") is not None else None
        if revision is not None and not 0 < revision < 2**62:
            raise ValueError(revision)
        # Ids are 64-bit database keys; a larger number is no id the database could even be asked about.
        if not 0 < question_id < 2**63:
            raise ValueError(question_id)
    # OverflowError: int() of JSON's 1e5000, which is infinity; RecursionError: JSON nested thousands deep.
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError):
        message = _("The answer could not be read; please reload the page.")
        return JsonResponse({"ok": False, "error": message}, status=400)
    try:
        choice_ids = options_decode(attempt=attempt, answers={question_id: values})[question_id]
        row = services.attempt_answer_save(
            attempt=attempt, question_id=question_id, choice_ids=choice_ids, revision=revision
        )
    except ValidationError as error:
        if error.code in {"submitted", "overdue"}:
            services.attempt_close_if_overdue(attempt=attempt)
            return _closed_response(attempt, " ".join(error.messages))
        return JsonResponse({"ok": False, "error": " ".join(error.messages)}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "question": question_id,
            "choices": option_values(attempt_id=attempt.pk, choice_ids=row.choice_ids),
            "revision": row.revision,
            "remaining_seconds": _remaining_seconds(attempt),
        }
    )


@login_required
@never_cache
def attempt_state(request, attempt_id: int):
    """The saved answers and the time left, for a page that comes back online or opens on a second device."""
    attempt = _own_attempt(request, attempt_id)
    if not attempt.is_open:
        return _closed_response(attempt, _("This attempt has already been submitted."))
    return JsonResponse(
        {
            "ok": True,
            "remaining_seconds": _remaining_seconds(attempt),
            "answers": {
                str(item.question.id): [option.value for option in item.choices if option.id in item.selected]
                for item in selectors.attempt_paper(attempt=attempt)
            },
        }
    )


@login_required
@never_cache
def attempt_result(request, attempt_id: int):
    attempt = _own_attempt(request, attempt_id)
    if attempt.is_open:
        return redirect("certification:attempt", attempt_id=attempt.pk)
    review = selectors.attempt_review(attempt=attempt)
    return render(
        request,
        "certification/attempt_result.html",
        {
            "attempt": attempt,
            "review": review,
            "paper": selectors.attempt_paper(attempt=attempt, with_key=review.show_key) if review.show_key else [],
        },
    )
