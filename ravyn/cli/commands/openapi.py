"""``ravyn openapi``: the app's OpenAPI 3.1 document (see ``ravyn/openapi/cli.py``)."""

from typing import Any

from ravyn.openapi import openapi_document
from ravyn.openapi.cli import add_document_command


def register(commands: Any) -> None:
    add_document_command(
        commands, "openapi", openapi_document, help="print the app's OpenAPI 3.1 document"
    )
