"""The AsyncAPI 3.0 document of an app's events, and a readable page of the same catalogue."""

from ravyn.asyncapi.document import asyncapi_document

__all__ = ["asyncapi_document"]
