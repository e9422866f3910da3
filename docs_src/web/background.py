from ravyn import BackgroundTasks, Ravyn, post

outbox: list[str] = []


async def send_receipt(email: str) -> None:
    outbox.append(email)


@post("/checkout")
async def checkout(email: str, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_receipt, email)  # runs after the response is sent
    return {"ok": True}


app = Ravyn(routes=[checkout])
