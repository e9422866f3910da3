"""``ravyn asyncapi``: the app's AsyncAPI 3.0 document (see ``ravyn/openapi/cli.py``)."""

from typing import Any

from ravyn.asyncapi import asyncapi_document
from ravyn.openapi.cli import add_document_command


def register(commands: Any) -> None:
    add_document_command(
        commands, "asyncapi", asyncapi_document, help="print the app's AsyncAPI 3.0 document"
    )
