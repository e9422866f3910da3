# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for Celery (not installed here): `.delay` records the call instead of queueing it.
queued: list[tuple] = []


class Celery:
    def __init__(self, name: str, broker: str) -> None:
        self.name = name
        self.broker = broker

    def task(self, func):
        func.delay = lambda *args, **kwargs: queued.append((func.__name__, args, kwargs))
        return func


from ravyn import Ravyn, post

celery_app = Celery("tasks", broker="redis://localhost:6379")


@celery_app.task
def send_email(to: str, subject: str):
    # Send email logic
    pass


app = Ravyn()


@post("/send-email")
def queue_email(to: str, subject: str) -> dict:
    send_email.delay(to, subject)
    return {"queued": True}


app.add_route(queue_email)  # the page never mounts it
