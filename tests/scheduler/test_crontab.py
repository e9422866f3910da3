from datetime import UTC, datetime, timedelta

import pytest

from ravyn.contrib.schedulers.asyncz.crontab import crontab_trigger

pytestmark = pytest.mark.timeout(10)

WEDNESDAY_NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def next_fire(expression: str, now: datetime = WEDNESDAY_NOON) -> datetime:
    return crontab_trigger(expression, "UTC").get_next_trigger_time(UTC, None, now)


def fire_days(expression: str, start: datetime, count: int) -> list[str]:
    """Weekday abbreviations of the next `count` fires after `start`."""
    trigger = crontab_trigger(expression, "UTC")
    days, now = [], start
    for _ in range(count):
        fire = trigger.get_next_trigger_time(UTC, None, now)
        days.append(fire.strftime("%a"))
        now = fire + timedelta(minutes=1)
    return days


def test_daily_at_two():
    assert next_fire("0 2 * * *") == datetime(2024, 5, 2, 2, 0, tzinfo=UTC)


def test_every_five_minutes():
    assert next_fire("*/5 * * * *", datetime(2024, 5, 1, 12, 3, tzinfo=UTC)) == datetime(
        2024, 5, 1, 12, 5, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("day_of_week", "expected_day"),
    [
        ("0", "Sunday"),
        ("7", "Sunday"),
        ("1", "Monday"),
        ("6", "Saturday"),
        ("sun", "Sunday"),
        ("MON", "Monday"),
    ],
)
def test_day_of_week_numbers_mean_what_they_mean_in_crontab(day_of_week, expected_day):
    assert next_fire(f"0 2 * * {day_of_week}").strftime("%A") == expected_day


def test_weekday_range_skips_the_weekend():
    friday_noon = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
    assert fire_days("0 9 * * 1-5", friday_noon, 6) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("0-2", {"Sun", "Mon", "Tue"}),
        ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
        ("1-5/2", {"Mon", "Wed", "Fri"}),
        ("5,0", {"Fri", "Sun"}),
        ("mon-wed", {"Mon", "Tue", "Wed"}),
    ],
)
def test_ranges_steps_and_lists(field, days):
    assert set(fire_days(f"0 0 * * {field}", WEDNESDAY_NOON, 14)) == days


def test_timezone_applies():
    fire = crontab_trigger("0 2 * * *", "Europe/Paris").get_next_trigger_time(
        UTC, None, WEDNESDAY_NOON
    )
    assert fire.astimezone(UTC) == datetime(2024, 5, 2, 0, 0, tzinfo=UTC)  # CEST is UTC+2


@pytest.mark.parametrize("expression", ["0 2 * *", "0 2 * * * *", ""])
def test_wrong_number_of_fields_shows_an_example(expression):
    with pytest.raises(ValueError, match="five fields"):
        crontab_trigger(expression)


def test_out_of_range_day_of_week_is_refused():
    with pytest.raises(ValueError, match="0 and 7 are Sunday"):
        crontab_trigger("0 2 * * 8")
