# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for the queue the sample uses without defining it.
class EmailQueue:
    def __init__(self) -> None:
        self.queued = 0

    async def add_task(self) -> None:
        self.queued += 1


email_queue = EmailQueue()

from ravyn import observable


# Correct - non-blocking
@observable(listen=["user_registered"])
async def fast_email_send():
    await email_queue.add_task()  # Queue for background processing
