"""Jobs changed while the app runs: list, add, pause, resume, run now, remove."""

from asyncz.triggers import IntervalTrigger

from ravyn import Ravyn, Request, get, observable, post
from ravyn.contrib.schedulers.asyncz import scheduler

reports: list[str] = []


@scheduler(name="nightly_report", cron="0 2 * * *")
@observable(send=["report_ready"])
async def nightly_report() -> dict:
    reports.append("nightly")
    return {"kind": "nightly"}


async def flash_sale_reminder() -> None:
    reports.append("flash sale")


@get("/jobs")
async def list_jobs(request: Request) -> list[dict]:
    jobs = request.app.scheduler.jobs()
    return [{"name": job.name, "paused": job.paused} for job in jobs]


@post("/jobs/flash-sale")
async def start_flash_sale(request: Request) -> dict:
    request.app.scheduler.add(
        flash_sale_reminder, name="flash_sale", trigger=IntervalTrigger(minutes=10)
    )
    return {"added": "flash_sale"}


@post("/jobs/{name}/pause")
async def pause(request: Request, name: str) -> dict:
    request.app.scheduler.pause(name)
    return {"paused": name}


@post("/jobs/{name}/resume")
async def resume(request: Request, name: str) -> dict:
    request.app.scheduler.resume(name)
    return {"resumed": name}


@post("/jobs/{name}/run")
async def run_now(request: Request, name: str) -> dict:
    await request.app.scheduler.run(name)  # now, once, in this process
    return {"ran": name}


@post("/jobs/{name}/remove")
async def remove(request: Request, name: str) -> dict:
    request.app.scheduler.remove(name)
    return {"removed": name}


app = Ravyn(routes=[list_jobs, start_flash_sale, pause, resume, run_now, remove])
