from pathlib import Path

from ravyn import Ravyn, Request, get
from ravyn.templating import render

HERE = Path(__file__).parent


@get("/hello/{name}")
async def hello(request: Request, name: str):
    return render(request, "hello.html", {"name": name, "items": ["tea", "<cake>"]})


app = Ravyn(
    routes=[hello],
    static_dir=HERE / "static",  # served under /static
    templates_dir=HERE / "templates",
)
