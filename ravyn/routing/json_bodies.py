"""Decoding a JSON body into what the handler declared: msgspec types, or pydantic models.

pydantic stays optional: a model is recognised through ``sys.modules`` (a model class
exists only if the user's code imported pydantic), and its errors become the same 422
detail as msgspec's (``loc`` from ``"body"`` down to the field, ``msg``).
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ravyn.exceptions import RequestValidationError
from ravyn.routing.validation import malformed_body


def pydantic_model(annotation: Any) -> type | None:
    """The pydantic ``BaseModel`` subclass ``annotation`` names (also as ``Model | None``)."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return None
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    return None


class PydanticBody:
    """A pydantic model, validated by pydantic from the raw JSON."""

    __slots__ = ("model",)

    def __init__(self, model: type) -> None:
        self.model = model

    def decode(self, body: bytes) -> Any:
        try:
            return self.model.model_validate_json(body)  # type: ignore[attr-defined]
        except ValueError as exc:  # pydantic.ValidationError
            errors = exc.errors(include_url=False)  # type: ignore[attr-defined]
            if any(error["type"] == "json_invalid" for error in errors):
                raise malformed_body(errors[0]["msg"]) from None
            raise RequestValidationError(
                detail=[{"loc": ["body", *error["loc"]], "msg": error["msg"]} for error in errors]
            ) from None


def body_decoder(annotation: Any) -> Callable[[bytes], Any]:
    """``decode(body)`` for ``annotation``: msgspec's own decoder (the caller maps its
    ``ValidationError``/``DecodeError``, with no extra call on the hot path), or a pydantic
    model's, which raises the same 400/422 itself."""
    model = pydantic_model(annotation)
    return msgspec.json.Decoder(annotation).decode if model is None else PydanticBody(model).decode
