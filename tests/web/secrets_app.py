"""The app the secret-scanning tests serve with real server processes (`uvicorn
tests.web.secrets_app:app`, its transport from RAVYN_EVENT_TRANSPORT): every place a secret
could slip into a log line holds one, in a local variable or a field."""

from ravyn import Event, Include, Inject, Ravyn, Request, post
from ravyn.bridge import EventBridge
from ravyn.utils.decorators import observable


def current_user(request: Request) -> dict:
    authorization = request.headers.get("authorization")  # locals a traceback could show
    session = request.cookies.get("session")
    return {"authorization": authorization, "session": session}


@post("/signup")
@observable(send=["user_signed_up"])
async def signup(email: str, password: str, api_key: str, user: dict = Inject(current_user)):
    return {"email": email, "api_key": api_key}  # the event's payload holds the api key


@post("/crash")
async def crash(email: str, password: str, user: dict = Inject(current_user)) -> dict:
    reversed_password = password[::-1]  # noqa: F841 - a local a traceback could show
    raise RuntimeError(f"the user store refused {email}")


@observable(listen=["user_signed_up"])
async def send_welcome_mail(event: Event, email: str) -> None:
    raise ConnectionError("the mail server refused the connection")


app = Ravyn(routes=[signup, crash, Include("/events", app=EventBridge(events=["user_*"]))])
