from ravyn import Ravyn, get
from ravyn.resilience import Bulkhead, LoadShedder, bulkhead_route, setup_resilience

app = Ravyn()
shedder = LoadShedder(max_requests=500)

# Global protection for all routes
setup_resilience(app, timeout=30.0, load_shedder=shedder)


# Additional protection for specific routes
@get("/expensive")
@bulkhead_route(Bulkhead(max_concurrent=5))
async def expensive_operation() -> dict:
    return {"expensive": "done"}


app.add_route(expensive_operation)
