# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
import os

from ravyn import get  # the sample uses get without importing it

from ravyn import Ravyn
import sentry_sdk

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],  # the page writes dsn="your-sentry-dsn"
    traces_sample_rate=1.0,
)

app = Ravyn()


# Sentry automatically captures errors
@get("/error")
def trigger_error() -> dict:
    raise Exception("This error will be sent to Sentry")


app.add_route(trigger_error)  # the page never mounts it
