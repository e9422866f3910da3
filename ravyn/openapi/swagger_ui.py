"""The Swagger UI page, served with no internet: its assets come from an installed package.

Swagger UI 5 (needed for OpenAPI 3.1) ships in the ``swagger-ui-py`` package, a dependency
of ravyn; the page and its two assets are served by the app itself, never from a CDN.
"""

from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path

from ravyn.exceptions import ImproperlyConfigured

ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css; charset=utf-8",
}


def assets_directory() -> Path:
    """Where the installed Swagger UI 5 assets are (the ``swagger_ui`` package's ``static``
    folder), found without importing the package."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is not None and spec.submodule_search_locations:
        directory = Path(next(iter(spec.submodule_search_locations))) / "static"
        if all((directory / name).is_file() for name in ASSETS):
            return directory
    raise ImproperlyConfigured(
        "The /docs page needs Swagger UI's assets from the swagger-ui-py package: "
        "pip install swagger-ui-py (a dependency of ravyn), or pass docs_url=None."
    )


def swagger_page(title: str, openapi_url: str, assets_url: str) -> bytes:
    """The HTML page: Swagger UI reading ``openapi_url``, its assets under ``assets_url``."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{html.escape(assets_url)}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{html.escape(assets_url)}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {json.dumps(openapi_url)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
""".encode()
