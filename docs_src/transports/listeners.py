"""A listeners-only module, run by `ravyn worker docs_src.transports.listeners --transport ...`."""

from ravyn import observable


@observable(listen=["user_registered"], retry=3, timeout=30)
async def send_welcome_email(email: str) -> None:
    print(f"welcome email sent to {email}", flush=True)


@observable(listen=["user.*"])  # any user.<something> event
async def audit_user_changes(payload: dict) -> None:
    print(f"audit {payload}", flush=True)
