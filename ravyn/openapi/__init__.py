"""The OpenAPI 3.1 document of an app's routes, and Swagger UI to read it (offline)."""

from ravyn.openapi.document import openapi_document
from ravyn.openapi.security import SecurityScheme

__all__ = ["SecurityScheme", "openapi_document"]
