import pytest
from asyncz.triggers import CronTrigger, IntervalTrigger

from ravyn.contrib.schedulers.asyncz.decorator import DEFAULT_LOCK_TTL, scheduler

pytestmark = pytest.mark.timeout(10)


def test_declaring_records_a_job_and_returns_the_function_unchanged(isolated_jobs):
    async def heartbeat() -> dict:
        return {"alive": True}

    decorated = scheduler(trigger=IntervalTrigger(seconds=30), max_instances=2)(heartbeat)

    assert decorated is heartbeat
    [job] = isolated_jobs
    assert job.name == "heartbeat"
    assert job.func is heartbeat
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.options == {"max_instances": 2}
    assert job.lock_ttl == DEFAULT_LOCK_TTL


def test_cron_string_becomes_a_cron_trigger(isolated_jobs):
    @scheduler(name="daily_cleanup", cron="0 2 * * *", timezone="UTC")
    async def run_daily_cleanup(): ...

    [job] = isolated_jobs
    assert job.name == "daily_cleanup"
    assert isinstance(job.trigger, CronTrigger)


def test_asyncz_options_pass_through_and_misfire_is_an_alias(isolated_jobs):
    @scheduler(
        cron="*/5 * * * *",
        id="five",
        coalesce=False,
        misfire_grace_time=30,
        max_instances=3,
        kwargs={"dry_run": True},
    )
    def every_five(dry_run: bool = False): ...

    assert isolated_jobs[0].options == {
        "id": "five",
        "coalesce": False,
        "mistrigger_grace_time": 30,
        "max_instances": 3,
        "kwargs": {"dry_run": True},
    }


def test_unknown_option_is_refused_with_the_list_of_known_ones():
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['max_instance'\].*max_instances"):
        scheduler(cron="0 2 * * *", max_instance=1)


@pytest.mark.parametrize(
    "arguments",
    [{}, {"cron": "0 2 * * *", "trigger": IntervalTrigger(seconds=1)}],
)
def test_exactly_one_of_cron_or_trigger(arguments):
    with pytest.raises(ValueError, match="exactly one of cron="):
        scheduler(**arguments)


def test_trigger_must_be_an_asyncz_trigger():
    with pytest.raises(TypeError, match="asyncz trigger"):
        scheduler(trigger="interval")


def test_timezone_belongs_to_cron_only():
    with pytest.raises(ValueError, match="timezone= applies to cron="):
        scheduler(trigger=IntervalTrigger(seconds=5), timezone="UTC")


def test_lock_ttl_must_be_positive():
    with pytest.raises(ValueError, match="lock_ttl"):
        scheduler(cron="0 2 * * *", lock_ttl=0)


def test_two_functions_cannot_share_a_job_name(isolated_jobs):
    @scheduler(name="report", cron="0 2 * * *")
    async def first(): ...

    with pytest.raises(ValueError, match="give one of them @scheduler\\(name=...\\)"):

        @scheduler(name="report", cron="0 3 * * *")
        async def second(): ...

    assert [job.func for job in isolated_jobs] == [first]


def test_redeclaring_the_same_function_replaces_its_job(isolated_jobs):
    def declare(cron: str):
        @scheduler(cron=cron)
        async def nightly(): ...

        return nightly

    declare("0 2 * * *")
    latest = declare("0 3 * * *")  # what re-importing a module does
    assert [job.func for job in isolated_jobs] == [latest]
