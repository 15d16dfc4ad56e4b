"""JSON bodies decoded exactly as their schema says: no type coercion, no unknown fields, and the
checks of server/validation.py (control characters, email addresses, instants, time zones).

Litestar converts a decoded body into the handler's struct with msgspec's lax rules, which take
`0` for `false` and a number for a date; the schema says otherwise, and a request that breaks its
schema must be refused. Here the body is decoded straight into the struct, strictly (and faster:
one pass from bytes), and the schema of a struct that forbids unknown fields says so.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.exceptions import ClientException, ValidationException
from litestar.types import Empty

from server.validation import Refused, checked, explain

_BODY_TYPES: dict[Any, Any] = {}


def _body_type(handler: Any) -> Any:
    """The struct (or other type) a handler's `data` parameter takes, or None."""
    if handler not in _BODY_TYPES:
        data = handler.parsed_fn_signature.parameters.get("data")
        _BODY_TYPES[handler] = data.annotation if data is not None else None
    return _BODY_TYPES[handler]


def _location(message: str) -> tuple[str, str]:
    """msgspec's "Expected `int`, got `str` - at `$.capacity`" as ("capacity", the sentence)."""
    text, _, path = message.partition(" - at `")
    field = path.rstrip("`").removeprefix("$").lstrip(".") or "body"
    return field, text


class StrictRequest(Request):
    """A request whose JSON body becomes the handler's `data` type in one strict decode."""

    async def json(self) -> Any:
        if self._json is Empty and (target := _body_type(self.route_handler)) is not None:
            body = await self.body()
            try:
                self._json = checked(msgspec.json.decode(body or b"null", type=target), target)
            except msgspec.ValidationError as exc:
                field, text = _location(explain(str(exc)))
                raise ValidationException(
                    detail=text, extra=[{"key": field, "message": text, "source": "body"}]
                ) from None
            except Refused as exc:
                field = exc.field or "body"
                raise ValidationException(
                    detail=exc.message, extra=[{"key": field, "message": exc.message, "source": "body"}]
                ) from None
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                raise ClientException(detail=f"The body is not valid JSON: {exc}") from None
            return self._json
        return await super().json()


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Struct schemas that say `additionalProperties: false` where the struct forbids unknown fields."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Any:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if msgspec.inspect.type_info(field_definition.type_).forbid_unknown_fields:
            schema.additional_properties = False
        return schema
