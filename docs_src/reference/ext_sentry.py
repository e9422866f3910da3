# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for sentry_sdk (not installed here): records the init call.
import types

sentry_options: dict = {}
sentry_sdk = types.SimpleNamespace(init=lambda **options: sentry_options.update(options))

from ravyn import get  # the sample uses get without importing it

from ravyn import Ravyn

sentry_sdk.init(dsn="your-sentry-dsn", traces_sample_rate=1.0)

app = Ravyn()


# Sentry automatically captures errors
@get("/error")
def trigger_error() -> dict:
    raise Exception("This error will be sent to Sentry")


app.add_route(trigger_error)  # the page never mounts it
