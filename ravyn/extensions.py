"""Extensions: reusable pieces that set an application up (a client on ``app.state``, routes,
middleware), declared once with ``Ravyn(extensions={"name": Extension(), ...})``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ravyn.app import Ravyn


class Extension:
    """Subclass and implement ``extend(app, **kwargs)``; it runs while the app is constructed,
    after its routes and middleware are in place (so it may add more)."""

    def extend(self, app: Ravyn, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement extend(app, **kwargs).")
