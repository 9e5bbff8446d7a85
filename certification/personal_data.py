"""What certification holds about a caregiver, for their own-data download (see accounts.personal_data).

Exam results follow the exam's own review setting: a score or answer key the caregiver may not see yet on the
exam's result page is not in the download either (it says when it will be).
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Prefetch, Subquery
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from wagtail.models import ModelLogEntry

from accounts.personal_data import (
    PersonalDataPart,
    PersonalDataSection,
    archive_name,
    personal_data_record,
    personal_data_register,
    personal_data_value,
)

from .certificates.models import Certificate, CertificateReminder
from .evaluations.models import Appeal, Evaluation, EvaluationRound
from .exams.models import AttemptAnswer, Choice, ExamAttempt, ExamOverride
from .exams.selectors import attempt_review
from .practicals.models import PracticalAssessment, PracticalStepScore
from .servicedata.models import ServiceIncident, ServiceMonth


def _decision(evaluation: Evaluation | None) -> dict | None:
    if evaluation is None:
        return None
    return {"decided_at": personal_data_value(evaluation.decided_at), "level": evaluation.level}


def _exam_overrides(caregiver) -> PersonalDataPart:
    overrides = list(ExamOverride.objects.filter(caregiver=caregiver).select_related("exam").order_by("created_at"))
    return PersonalDataPart(
        records=[
            personal_data_record(
                override, "extra_minutes", "extra_attempts", "reason", "created_at", exam=override.exam.title
            )
            for override in overrides
        ],
        about=overrides,
    )


def _exam_attempts(caregiver) -> PersonalDataPart:
    attempts = list(
        ExamAttempt.objects.filter(caregiver=caregiver)
        .select_related("exam")
        .prefetch_related(Prefetch("answers", AttemptAnswer.objects.select_related("question").order_by("position")))
        .order_by("started_at", "pk")
    )
    question_ids = {answer.question_id for attempt in attempts for answer in attempt.answers.all()}
    texts, correct_ids = {}, set()
    for choice_id, text, is_correct in Choice.objects.filter(question_id__in=question_ids).values_list(
        "id", "text", "is_correct"
    ):
        texts[choice_id] = text
        if is_correct:
            correct_ids.add(choice_id)
    records = []
    for attempt in attempts:
        review = attempt_review(attempt=attempt)
        record = personal_data_record(
            attempt, "started_at", "deadline", "submitted_at", "auto_submitted", exam=attempt.exam.title
        )
        if review.show_score:
            record.update(score=personal_data_value(attempt.score), passed=attempt.passed)
        elif not attempt.is_open:
            record["results_available_from"] = personal_data_value(review.available_at)
        answers = []
        for answer in attempt.answers.all():
            item = {
                "number": answer.position + 1,
                "question": answer.question.text,
                "points": answer.points,
                "options": [texts.get(choice_id, "") for choice_id in answer.choice_order],
                "your_answer": [texts.get(choice_id, "") for choice_id in answer.choice_ids],
                "answered_at": personal_data_value(answer.answered_at),
            }
            if review.show_key:
                item["correct"] = bool(answer.is_correct)
                item["correct_answer"] = [
                    texts.get(choice_id, "") for choice_id in answer.choice_order if choice_id in correct_ids
                ]
                item["explanation"] = answer.question.explanation
            answers.append(item)
        record["answers"] = answers
        records.append(record)
    return PersonalDataPart(records=records, about=attempts)


def _practicals(caregiver) -> PersonalDataPart:
    assessments = list(
        PracticalAssessment.objects.filter(caregiver=caregiver)
        .select_related("template__service_item", "assessor")
        .prefetch_related(Prefetch("step_scores", PracticalStepScore.objects.order_by("position", "pk")))
        .order_by("assigned_at", "pk")
    )
    records = [
        personal_data_record(
            assessment,
            "assessor",
            "assigned_at",
            "scheduled_on",
            "status",
            "score",
            "passed",
            "critical_failed",
            "notes",
            "scored_at",
            checklist=assessment.template.title,
            service_item=assessment.template.service_item.name,
            steps=[
                personal_data_record(step, "text", "max_points", "is_critical", "points_awarded")
                for step in assessment.step_scores.all()
            ],
        )
        for assessment in assessments
    ]
    return PersonalDataPart(records=records, about=assessments)


def _evaluations(caregiver) -> PersonalDataPart:
    evaluations = list(
        Evaluation.objects.filter(caregiver=caregiver)
        .select_related("rule_set", "round", "requested_by", "assessor", "reviewer", "revises")
        .order_by("created_at", "pk")
    )
    records = [
        personal_data_record(
            evaluation,
            "source",
            "status",
            "round",
            "requested_by",
            "request_note",
            "assessor",
            "assigned_at",
            "rule_set",
            "practical_score",
            "observations",
            "computed_level",
            "level",
            "reason",
            "criteria_snapshot",
            "proposed_at",
            "reviewer",
            "review_note",
            "created_at",
            "decided_at",
            "appeal_until",
            "re_evaluation_due_on",
            revises=_decision(evaluation.revises),
        )
        for evaluation in evaluations
    ]
    return PersonalDataPart(records=records, about=evaluations)


def _appeals(caregiver) -> PersonalDataPart:
    appeals = list(
        Appeal.objects.filter(evaluation__caregiver=caregiver)
        .select_related("evaluation", "decided_by", "result")
        .order_by("filed_at", "pk")
    )
    records = [
        personal_data_record(
            appeal,
            "filed_at",
            "grounds",
            "status",
            "decided_by",
            "decision_note",
            "decided_at",
            decision_appealed=_decision(appeal.evaluation),
            new_decision=_decision(appeal.result),
        )
        for appeal in appeals
    ]
    return PersonalDataPart(records=records, about=appeals)


def _rounds(caregiver) -> PersonalDataPart:
    # A round is shared by every caregiver of its institution or county: its own history is not theirs.
    rounds = (
        EvaluationRound.objects.filter(evaluations__caregiver=caregiver)
        .select_related("institution", "county")
        .distinct()
        .order_by("opened_at", "pk")
    )
    return PersonalDataPart(
        records=[
            personal_data_record(evaluation_round, "name", "institution", "county", "closes_on", "opened_at")
            for evaluation_round in rounds
        ]
    )


def _certificates(caregiver) -> PersonalDataPart:
    certificates = list(
        Certificate.objects.filter(caregiver=caregiver)
        .select_related("predecessor", "status_changed_by")
        .order_by("issued_on", "pk")
    )
    records, files = [], []
    for certificate in certificates:
        stem = archive_name(certificate.serial_number)
        if stem != certificate.serial_number:
            stem += f"-{certificate.pk}"  # a pattern with other characters: two numbers may look alike once made safe
        stem = f"certificates/{stem}"
        pdf = f"{stem}.pdf" if certificate.pdf and certificate.status != Certificate.Status.PENDING else None
        photo = f"{stem}-photo.jpg" if certificate.holder_photo else None
        if pdf:
            files.append((pdf, certificate.pdf))
        if photo:
            files.append((photo, certificate.holder_photo))
        records.append(
            personal_data_record(
                certificate,
                "serial_number",
                "kind",
                "star_level",
                "issuer",
                "issued_on",
                "valid_until",
                "status",
                "status_changed_at",
                "status_changed_by",
                "status_reason",
                "issue_reason",
                "holder_name",
                "holder_national_id_masked",
                "verification_code",
                "pdf_sha256",
                verification_page=certificate.verify_url,
                supersedes=certificate.predecessor.serial_number if certificate.predecessor else None,
                pdf=pdf,
                photo_as_printed=photo,
            )
        )
    return PersonalDataPart(records=records, about=certificates, files=files)


def _notifications(caregiver) -> PersonalDataPart:
    """The notices sent to the caregiver (e-mail and SMS, to the address and number on their account then)."""
    records = [
        {
            "notice": str(_("Notice: certificate issued")),
            "sent_at": personal_data_value(notified_at),
            "certificate": serial_number,
        }
        for serial_number, notified_at in Certificate.objects.filter(
            caregiver=caregiver, notified_at__isnull=False
        ).values_list("serial_number", "notified_at")
    ]
    records += [
        {
            "notice": str(_("Reminder: certificate expiring")),
            "sent_at": personal_data_value(reminder.sent_at),
            "certificate": reminder.certificate.serial_number,
            "days_before_expiry": reminder.days_before,
        }
        for reminder in CertificateReminder.objects.filter(certificate__caregiver=caregiver).select_related(
            "certificate"
        )
    ]
    evaluation_ids = Evaluation.objects.filter(caregiver=caregiver).annotate(key=Cast("pk", CharField())).values("key")
    records += [
        {
            "notice": str(_("Notice: star evaluation decided")),
            "sent_at": personal_data_value(entry.timestamp),
            "level": (entry.data or {}).get("level"),
        }
        for entry in ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Evaluation),
            object_id__in=Subquery(evaluation_ids),
            action="carestar.evaluation.notify",
        )
    ]
    records.sort(key=lambda record: record["sent_at"] or "")
    return PersonalDataPart(records=records)


def _service_months(caregiver) -> PersonalDataPart:
    months = list(ServiceMonth.objects.filter(caregiver=caregiver).select_related("imported_in").order_by("month"))
    return PersonalDataPart(
        records=[
            personal_data_record(
                month,
                "month",
                "service_hours",
                "surveys",
                "satisfied",
                received_at=month.imported_in.created_at,
                received_by=month.imported_in.get_source_display(),
            )
            for month in months
        ],
        about=months,
    )


def _incidents(caregiver) -> PersonalDataPart:
    incidents = list(
        ServiceIncident.objects.filter(caregiver=caregiver).select_related("imported_in").order_by("occurred_on", "pk")
    )
    return PersonalDataPart(
        records=[
            personal_data_record(
                incident,
                "reference",
                "kind",
                "occurred_on",
                "substantiated",
                "summary",
                received_at=incident.imported_in.created_at,
            )
            for incident in incidents
        ],
        about=incidents,
    )


personal_data_register(
    sections=[
        PersonalDataSection(
            key="exam_overrides",
            title=_("Exam arrangements (extra time, extra attempts)"),
            covers=("certification.ExamOverride.caregiver",),
            collect=_exam_overrides,
        ),
        PersonalDataSection(
            key="exam_attempts",
            title=_("Theory exam attempts, answers and scores"),
            covers=("certification.ExamAttempt.caregiver",),
            collect=_exam_attempts,
        ),
        PersonalDataSection(
            key="practical_assessments",
            title=_("Practical assessments"),
            covers=("certification.PracticalAssessment.caregiver",),
            collect=_practicals,
        ),
        PersonalDataSection(
            key="star_evaluations",
            title=_("Star evaluations and decisions"),
            covers=("certification.Evaluation.caregiver", "certification.Evaluation.requested_by"),
            collect=_evaluations,
        ),
        PersonalDataSection(
            key="appeals",
            title=_("Appeals"),
            covers=("certification.Appeal.filed_by",),
            collect=_appeals,
        ),
        PersonalDataSection(
            key="evaluation_rounds",
            title=_("Re-evaluation rounds you were part of"),
            covers=(),
            collect=_rounds,
        ),
        PersonalDataSection(
            key="certificates",
            title=_("Certificates"),
            covers=("certification.Certificate.caregiver",),
            collect=_certificates,
        ),
        PersonalDataSection(
            key="notifications",
            title=_("Notices sent to you"),
            covers=(),
            collect=_notifications,
        ),
        PersonalDataSection(
            key="service_months",
            title=_("Monthly service figures (LTCI service data)"),
            covers=("certification.ServiceMonth.caregiver",),
            collect=_service_months,
        ),
        PersonalDataSection(
            key="service_incidents",
            title=_("Complaints and incidents (LTCI service data)"),
            covers=("certification.ServiceIncident.caregiver",),
            collect=_incidents,
        ),
    ],
    staff_only={
        "certification.Question.proposed_by": _("Question authors: training bodies and administrators."),
        "certification.Question.reviewed_by": _("Question reviewers: administrators."),
        "certification.PracticalAssessment.assessor": _("The assessor scoring a practical; named in the assessment."),
        "certification.PracticalAssessment.assigned_by": _("The administrator who assigned a practical."),
        "certification.Evaluation.assessor": _("The assessor of an evaluation; named in the evaluation."),
        "certification.Evaluation.reviewer": _("The reviewer of an evaluation; named in the evaluation."),
        "certification.Appeal.decided_by": _("The administrator deciding an appeal; named in the appeal."),
        "certification.EvaluationRound.opened_by": _("Rounds are opened by administrators and managers."),
        "certification.Certificate.status_changed_by": _("Who revoked or re-issued a certificate: an administrator."),
        "certification.CertificateBatch.created_by": _("Certificate batches are issued by administrators."),
        "certification.ServiceDataClient.created_by": _("Client systems are registered by administrators."),
        "certification.ServiceDataImport.uploaded_by": _("Service data is uploaded by administrators."),
    },
)
