"""JSON Schemas of Python types for a document's ``components/schemas``, each named once.

msgspec describes its own types (Struct, dataclass, TypedDict, enums, scalars, containers);
pydantic describes its models (``model_json_schema``), when the user's code has any. A type
that neither can describe (a Response class, an arbitrary object) is ``{}``: any value.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ravyn.routing.json_bodies import pydantic_model


class Components:
    """The named schemas of one document; ``schema(annotation)`` returns what an operation
    or a message puts inline (a ``$ref`` for named types) and records the definitions."""

    def __init__(self, ref_prefix: str = "#/components/schemas/") -> None:
        self.ref_prefix = ref_prefix
        self.schemas: dict[str, Any] = {}

    def schema(self, annotation: Any) -> dict[str, Any]:
        model = pydantic_model(annotation)
        if model is not None:
            return self._pydantic(model, nullable=model is not annotation)
        try:
            (schema,), definitions = msgspec.json.schema_components(
                [annotation], ref_template=self.ref_prefix + "{name}"
            )
        except (TypeError, ValueError):  # not a type msgspec can describe
            return {}
        self.schemas.update(definitions)
        return schema

    def object_fields(self, struct: type[msgspec.Struct]) -> dict[str, Any]:
        """The inline object schema of a Struct made by the binding (the fields of one
        source): its properties by wire name, and which are required."""
        ref = self.schema(struct)["$ref"]
        return self.schemas.pop(ref.removeprefix(self.ref_prefix))

    def _pydantic(self, model: Any, nullable: bool) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=self.ref_prefix + "{model}")
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        ref = {"$ref": self.ref_prefix + model.__name__}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref

    def sorted(self) -> dict[str, Any]:
        """The definitions by name, in a stable order."""
        return dict(sorted(self.schemas.items()))
