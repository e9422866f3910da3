"""Jinja2 templates (the ``templates`` extra): ``render(request, "page.html", context)``.

The app builds one Jinja2 environment from ``Ravyn(templates_dir=...)``: templates are
loaded once and cached, HTML is autoescaped, and an undefined variable is an error rather
than an empty string. Every template sees ``request`` and ``url_for(name, **params)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jinja2
from lilya.responses import HTMLResponse

from ravyn.exceptions import ImproperlyConfigured
from ravyn.requests import Request


def template_environment(directory: str | os.PathLike[str]) -> jinja2.Environment:
    """The environment an app renders with."""
    if not os.path.isdir(directory):
        raise ImproperlyConfigured(
            f"templates_dir {os.fspath(directory)!r} is not a directory: create it or fix the path."
        )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(),
        undefined=jinja2.StrictUndefined,
    )
    environment.globals["url_for"] = _url_for
    return environment


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` (a path under the app's ``templates_dir``) rendered with ``context``
    and ``request``, as an HTML response."""
    environment = getattr(request.app, "templates", None)
    if environment is None:
        raise ImproperlyConfigured(
            "render() needs the app's templates: pass Ravyn(templates_dir='templates')."
        )
    html = environment.get_template(template).render({**(context or {}), "request": request})
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


@jinja2.pass_context
def _url_for(context: Any, name: str, /, **path_params: Any) -> str:
    """``{{ url_for("static", path="site.css") }}``: the request's ``url_for``."""
    return context["request"].url_for(name, **path_params)
