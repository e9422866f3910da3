"""listeners.py: what happens after a user registers (nothing here imports the app)."""

from ravyn import Event, observable


@observable(listen=["user_registered"])
async def send_welcome_email(email: str) -> None:
    print(f"Welcome, {email}!", flush=True)


@observable(listen=["user_registered"])
async def audit(event: Event) -> None:
    print(f"audit: {event.name} from {event.source}", flush=True)
