"""Calendar arithmetic the rules and certificates share: whole months and years, with month ends handled."""

import datetime


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def months_before(day: datetime.date, months: int) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    # The 31st of a 30-day month falls back to the month's last day.
    for candidate_day in range(day.day, 27, -1):
        try:
            return datetime.date(year, month, candidate_day)
        except ValueError:
            continue
    return datetime.date(year, month, min(day.day, 28))


def months_after(day: datetime.date, months: int) -> datetime.date:
    return months_before(day, -months)


def completed_years(since: datetime.date, today: datetime.date) -> int:
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))
