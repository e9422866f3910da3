# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for a name the sample uses without defining it.
computed: list[str] = []


async def expensive_computation():
    computed.append("done")


# Observables: Multiple handlers react to one event
from ravyn import post
from ravyn import observable


@post("/register")
@observable(send=["user_registered"])
async def register(email: str) -> dict:
    return {"registered": True}


@observable(listen=["user_registered"])
async def send_email():
    print("Sending email...")


@observable(listen=["user_registered"])
async def log_analytics():
    print("Logging analytics...")


# Background Tasks: Single deferred task
from ravyn import post, BackgroundTask


@post("/process")
async def process_data(background_tasks: BackgroundTask) -> dict:
    background_tasks.add_task(expensive_computation)
    return {"processing": True}
