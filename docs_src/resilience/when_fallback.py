from ravyn import Ravyn, get
from ravyn.resilience import with_fallback_route


class RecommendationsDown(Exception):
    pass


# Use for non-critical data
@get("/recommendations")
@with_fallback_route({"data": [], "status": "degraded"})
async def get_recommendations() -> dict:
    raise RecommendationsDown()  # the recommendation service is down today


app = Ravyn(routes=[get_recommendations])
