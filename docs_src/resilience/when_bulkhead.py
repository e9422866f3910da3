from ravyn import Ravyn, get
from ravyn.resilience import Bulkhead, bulkhead_route

bulkhead = Bulkhead(max_concurrent=10, max_waiting=20, timeout=5.0)


# Use for resource-intensive operations
@get("/report")
@bulkhead_route(bulkhead)
async def database_query() -> dict:
    return {"rows": []}  # stands in for the heavy query


app = Ravyn(routes=[database_query])
