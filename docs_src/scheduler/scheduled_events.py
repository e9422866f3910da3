from asyncz.triggers import IntervalTrigger

from ravyn import Ravyn, observable
from ravyn.contrib.schedulers.asyncz.decorator import scheduler

cleanup_log: list[str] = []


@scheduler(name="daily_cleanup", cron="0 2 * * *")  # every day at 02:00 (UTC by default)
@observable(send=["daily_cleanup"])
async def run_daily_cleanup() -> dict:
    return {"status": "cleanup_started"}


@scheduler(name="heartbeat", trigger=IntervalTrigger(seconds=30), max_instances=1)
@observable(send=["heartbeat"])
async def beat() -> dict:
    return {"alive": True}


@observable(listen=["daily_cleanup"])
async def delete_old_logs(status: str) -> None:
    cleanup_log.append(f"logs deleted ({status})")


@observable(listen=["daily_cleanup"])
async def archive_data() -> None:
    cleanup_log.append("data archived")


@observable(listen=["heartbeat"])
async def record_heartbeat(alive: bool) -> None:
    cleanup_log.append(f"heartbeat (alive={alive})")


app = Ravyn()  # the jobs start with the app and stop with it
