# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them.
import structlog

logger = structlog.get_logger("docs.reference")
payments: list[str] = []


def process_payment():
    payments.append("processed")


from ravyn import observable


# Wrong - unhandled error
@observable(listen=["payment_success"])
async def failing_listener():
    raise Exception("Oops!")  # May affect other listeners


# Correct - error handling
@observable(listen=["payment_success"])
async def safe_listener():
    try:
        process_payment()
    except Exception as e:
        logger.error(f"Error in listener: {e}")
