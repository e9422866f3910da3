from ravyn import Ravyn, RavynSettings, get
from ravyn.logging import configure_logging, get_logger

settings = RavynSettings.from_env()  # RAVYN_DEBUG, RAVYN_LOG_JSON, RAVYN_LOG_LEVEL, ...
configure_logging(json=settings.log_json, level=settings.log_level)
logger = get_logger("shop.orders")


@get("/health")
async def health() -> dict:
    logger.info("health_checked", healthy=True)  # key-value events, one line each
    return {"healthy": True}


app = Ravyn(routes=[health], settings=settings)
