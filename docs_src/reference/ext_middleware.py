# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
from ravyn import Ravyn
from lilya.middleware.cors import CORSMiddleware  # the page imports starlette's, same options

app = Ravyn(
    middleware=[
        CORSMiddleware,
        {"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"]},
    ]
)
