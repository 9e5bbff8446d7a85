"""The ladder check: a rule set's levels must rise, each asking at least as much as the one below and more in
some respect, or the engine's "highest level whose criteria are all met" would mean nothing."""

from django.utils.translation import gettext as _

from .models import PRACTITIONER_RANK, StarLevelRule


def rule_levels_problems(levels: list[StarLevelRule], required_course_ids: dict[int, set[int]]) -> list[str]:
    """Why these levels do not make a usable ladder: levels 1…n without gaps, each asking at least as much as
    the one below it and more in some respect. `required_course_ids` maps a level to its courses."""
    problems = []
    numbers = sorted(rule.level for rule in levels)
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(_("Star levels must run from 1 upwards without gaps or repeats."))
        return problems
    ordered = sorted(levels, key=lambda rule: rule.level)
    for lower, higher in zip(ordered, ordered[1:], strict=False):
        lower_courses = required_course_ids.get(lower.level, set())
        higher_courses = required_course_ids.get(higher.level, set())
        comparisons = [
            (_("training hours"), higher.min_training_hours, lower.min_training_hours),
            (_("theory score"), higher.min_theory_score, lower.min_theory_score),
            (_("practical score"), higher.min_practical_score, lower.min_practical_score),
            (_("years of service"), higher.min_years_of_service, lower.min_years_of_service),
            (_("satisfaction rate"), higher.min_satisfaction_rate, lower.min_satisfaction_rate),
            (
                _("LTC practitioner level"),
                PRACTITIONER_RANK[higher.min_practitioner_level],
                PRACTITIONER_RANK[lower.min_practitioner_level],
            ),
            # Fewer complaints allowed is stricter: compare the negatives, with "no limit" as the loosest.
            (
                _("complaints allowed"),
                -(higher.max_substantiated_complaints if higher.max_substantiated_complaints is not None else 10**6),
                -(lower.max_substantiated_complaints if lower.max_substantiated_complaints is not None else 10**6),
            ),
            (_("required courses"), higher_courses >= lower_courses, True),
            (
                _("liability accident bar"),
                higher.barred_by_liability_accident >= lower.barred_by_liability_accident,
                True,
            ),
            (_("ethics breach bar"), higher.barred_by_ethics_breach >= lower.barred_by_ethics_breach, True),
        ]
        looser = [label for label, high, low in comparisons if high < low]
        for label in looser:
            problems.append(
                _("Level %(higher)s asks less than level %(lower)s in %(criterion)s.")
                % {"higher": higher.level, "lower": lower.level, "criterion": label}
            )
        stricter = (
            [label for label, high, low in comparisons[:7] if high > low]
            or (higher_courses > lower_courses)
            or (
                higher.barred_by_liability_accident > lower.barred_by_liability_accident
                or higher.barred_by_ethics_breach > lower.barred_by_ethics_breach
            )
        )
        if not looser and not stricter:
            problems.append(
                _("Level %(higher)s asks nothing more than level %(lower)s.")
                % {"higher": higher.level, "lower": lower.level}
            )
    return problems
