from ravyn import Ravyn, RetryPolicy, observable, post
from ravyn.resilience import Bulkhead, CircuitBreaker, RateLimiter

mail_provider = CircuitBreaker(name="mail", failure_threshold=5, recovery_timeout=30.0)
mailer = RateLimiter(name="mailer")
database = Bulkhead(max_concurrent=10, name="database")
welcomed: list[str] = []
profiles: list[str] = []
alerts: list[str] = []


@post("/signups")
@observable(send=["user.signed_up"])
async def sign_up(email: str) -> dict:
    return {"email": email}


@observable(
    listen=["user.signed_up"],
    rate_limit=(mailer, "50/s"),  # the provider's quota: wait for a turn, never drop
    circuit_breaker=mail_provider,  # provider down: stop calling it for a while
    retry=RetryPolicy(max_attempts=3),  # a retry waits until the circuit half-opens
)
async def send_welcome(email: str) -> None:
    welcomed.append(email)  # stands in for the mail provider's API


@observable(listen=["user.signed_up"], bulkhead=database)  # shares the pool's 10 slots
async def store_profile(email: str) -> None:
    profiles.append(email)  # stands in for the database write


@observable(listen=["resilience.circuit.*"])
async def page_on_call(name: str, failures: int) -> None:
    alerts.append(f"circuit {name}: {failures} failures")


app = Ravyn(routes=[sign_up])
