"""Answer options as a candidate's page names them: an opaque value per attempt and option.

Database ids would tell the order in which the options were written, and the right one is often written first;
the value here is a keyed hash of the attempt and the option, so it says nothing and differs on every attempt.
"""

from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .models import AttemptAnswer


def option_value(*, attempt_id: int, choice_id: int) -> str:
    return salted_hmac("carestar.exam-option", f"{attempt_id}:{choice_id}", algorithm="sha256").hexdigest()[:16]


def option_values(*, attempt_id: int, choice_ids) -> list[str]:
    return [option_value(attempt_id=attempt_id, choice_id=choice_id) for choice_id in choice_ids]


def options_decode(*, attempt, answers: dict[int, list[str]]) -> dict[int, list[int]]:
    """{question id: [option values]} → {question id: [choice ids]}, for the questions of this attempt's paper.

    A value that is none of the question's options (a stale page, a forged form) is refused in words."""
    orders = dict(
        AttemptAnswer.objects.filter(attempt=attempt, question_id__in=list(answers)).values_list(
            "question_id", "choice_order"
        )
    )
    decoded = {}
    for question_id, values in answers.items():
        if question_id not in orders:
            raise ValidationError(_("The answer names a question that is not on this exam."), code="question")
        by_value = {
            option_value(attempt_id=attempt.pk, choice_id=choice_id): choice_id for choice_id in orders[question_id]
        }
        try:
            decoded[question_id] = [by_value[value] for value in values]
        except (KeyError, TypeError):
            raise ValidationError(
                _("The answer could not be read; please reload the page."), code="unreadable"
            ) from None
    return decoded
