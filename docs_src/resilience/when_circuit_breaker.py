from ravyn import Ravyn, get
from ravyn.resilience import CircuitBreaker, circuit_breaker_route

circuit = CircuitBreaker(name="payments", failure_threshold=5, recovery_timeout=30.0)


# Use when calling external services
@get("/external")
@circuit_breaker_route(circuit)
async def call_external_api() -> dict:
    return {"paid": True}  # stands in for the call to the payment provider


app = Ravyn(routes=[call_external_api])
