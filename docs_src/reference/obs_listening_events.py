# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
from ravyn import observable


@observable(listen=["user_logged_in"])
async def log_login_activity():
    print("Logging user login activity...")


@observable(listen=["user_logged_in"])
async def update_last_login():
    print("Updating last login timestamp...")
