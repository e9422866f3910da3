"""JSON Schemas of Python types for a document's ``components/schemas``, each named once.

msgspec describes its own types (Struct, dataclass, TypedDict, enums, scalars, containers),
all in one call at the end, so that two types of the same name get distinct, qualified
names; pydantic describes its models (``model_json_schema``), when the user's code has
any. A type that neither can describe (a Response class, an arbitrary object) is ``{}``:
any value.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ravyn.routing.json_bodies import pydantic_model


class Components:
    """The named schemas of one document.

    ``schema(annotation)`` returns the dict an operation or a message puts inline (a
    ``$ref`` for named types); it is filled in by ``finish()``, once every type is known.
    """

    def __init__(self, ref_prefix: str = "#/components/schemas/") -> None:
        self.ref_prefix = ref_prefix
        self.schemas: dict[str, Any] = {}
        self._pending: list[tuple[Any, dict[str, Any]]] = []  # (annotation, its slot)

    def schema(self, annotation: Any) -> dict[str, Any]:
        model = pydantic_model(annotation)
        if model is not None:
            return self._pydantic(model, nullable=model is not annotation)
        slot: dict[str, Any] = {}
        self._pending.append((annotation, slot))
        return slot

    def object_fields(self, struct: type[msgspec.Struct]) -> dict[str, Any]:
        """The inline object schema of a Struct made by the binding (the fields of one
        source): its properties by wire name, and which are required."""
        properties: dict[str, Any] = {}
        required = []
        for field in msgspec.structs.fields(struct):
            schema = self.schema(field.type)
            if field.required:
                required.append(field.encode_name)
            elif field.default_factory is not msgspec.NODEFAULT:
                schema["default"] = msgspec.to_builtins(field.default_factory())
            else:
                schema["default"] = msgspec.to_builtins(field.default)
            properties[field.encode_name] = schema
        fields: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            fields["required"] = required
        return fields

    def finish(self) -> dict[str, Any]:
        """Describe every pending type in one msgspec call; the definitions by name."""
        described = []
        for annotation, slot in self._pending:
            try:
                msgspec.json.schema_components([annotation])
            except (TypeError, ValueError):  # not a type msgspec can describe: any value
                continue
            described.append((annotation, slot))
        schemas, definitions = msgspec.json.schema_components(
            [annotation for annotation, _ in described], ref_template=self.ref_prefix + "{name}"
        )
        for (_, slot), schema in zip(described, schemas, strict=True):
            merged = {**schema, **slot}  # a default set on the slot stays, after the type
            slot.clear()
            slot.update(merged)
        self.schemas.update(definitions)
        self._pending.clear()
        return dict(sorted(self.schemas.items()))

    def _pydantic(self, model: Any, nullable: bool) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=self.ref_prefix + "{model}")
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        ref = {"$ref": self.ref_prefix + model.__name__}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref
