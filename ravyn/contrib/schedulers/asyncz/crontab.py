"""Crontab strings to asyncz triggers, with crontab's own day-of-week numbering.

asyncz's `CronTrigger.from_crontab` reads day-of-week numbers the APScheduler way
(0 = Monday) and refuses 7, while every crontab (and its users) counts 0 or 7 = Sunday,
1 = Monday. Numeric day-of-week items are therefore rewritten to day names, which both
read alike, before asyncz sees them.
"""

from __future__ import annotations

from datetime import tzinfo

from asyncz.triggers import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_trigger(expression: str, timezone: tzinfo | str | None = None) -> CronTrigger:
    """A CronTrigger for a five-field crontab string (minute hour day month day-of-week)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron={expression!r} needs five fields (minute hour day month day-of-week), "
            'for example "0 2 * * *" for every day at 02:00'
        )
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=",".join(_day_names(item) for item in day_of_week.split(",")),
        timezone=timezone,
    )


def _day_names(item: str) -> str:
    """One comma-separated day-of-week item, numbers turned into the days they mean."""
    span, _, step_text = item.partition("/")
    if span == "*" and not step_text:
        return item
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        first_text, last_text = span.split("-", 1)
        if not (first_text.isdigit() and last_text.isdigit()):
            return item  # day names ("mon-fri"): asyncz reads them as crontab does
        first, last = int(first_text), int(last_text)
    elif span.isdigit():
        first = int(span)
        last = 6 if step_text else first
    else:
        return item
    step = int(step_text) if step_text else 1
    if not (0 <= first <= last <= 7) or step < 1:
        raise ValueError(
            f"day-of-week {item!r} is not a crontab day range: use 0-7 (0 and 7 are Sunday)"
        )
    return ",".join(sorted({_DAY_NAMES[day % 7] for day in range(first, last + 1, step)}))
