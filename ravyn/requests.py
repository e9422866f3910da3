"""The request object handlers receive by annotation (``request: Request``): Lilya's, plus
``url_for`` and a ``user`` that is None until an authentication guard loads one."""

from __future__ import annotations

from typing import Any

from lilya.requests import Connection
from lilya.requests import Request as LilyaRequest

__all__ = ["Connection", "Request"]


class Request(LilyaRequest):
    """An HTTP request. Handlers annotated with Lilya's ``Request`` receive this one too."""

    @property
    def user(self) -> Any:
        """The user an authentication guard loaded for this request, else None."""
        return self.scope.get("user")

    def url_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route named ``name`` as the client sees it: the app's
        ``url_for`` under the root path a proxy serves the app at."""
        root_path = self.scope.get("app_root_path", self.scope.get("root_path", ""))
        return root_path + self.scope["app"].url_for(name, **path_params)
