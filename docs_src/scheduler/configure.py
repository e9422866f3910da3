from asyncz.stores.memory import MemoryStore

from ravyn.contrib.schedulers.asyncz import configure_scheduler
from ravyn.contrib.schedulers.asyncz.decorator import scheduler

# Scheduler-wide asyncz options, before the app starts.
configure_scheduler(
    timezone="Europe/Lisbon",
    stores={"default": MemoryStore()},
    task_defaults={"coalesce": True, "max_instances": 1, "mistrigger_grace_time": 60},
)

reports: list[str] = []


@scheduler(
    name="weekday_report",
    cron="30 8 * * 1-5",  # 08:30 Monday to Friday, Lisbon time
    timezone="Europe/Lisbon",
    misfire_grace_time=300,  # still run if the app was busy for up to 5 minutes
    lock_ttl=600,  # in a cluster: one run per fire time, claimed for 10 minutes
)
async def weekday_report() -> None:
    reports.append("report sent")
