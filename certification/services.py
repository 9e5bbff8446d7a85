"""Service entry points kept at their historical import path; each lives in its own module."""

from .exams.services import (  # noqa: F401
    DEADLINE_GRACE,
    attempt_answer_save,
    attempt_answers_save,
    attempt_start,
    attempt_submit,
    attempts_close_overdue,
)
