"""HMAC-SHA256 signatures that let a consumer refuse events it did not expect.

The signature covers the exact encoded bytes, so no canonical form is needed and a producer
in any language can sign: encode the event with the header `signature` set to 64 zeros
(`SIGNATURE_PLACEHOLDER`), HMAC-SHA256 those bytes with the shared secret, and put the hex
digest in place of the zeros. Verifying undoes that substitution and compares in constant
time. The secret comes from the argument or `RAVYN_EVENT_SECRET`.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import msgspec

from ravyn.events.codec import DecodeError
from ravyn.events.envelope import SIGNATURE, Event

SECRET_ENVIRONMENT_VARIABLE = "RAVYN_EVENT_SECRET"
SIGNATURE_HEADER = SIGNATURE
SIGNATURE_PLACEHOLDER = "0" * 64
_PLACEHOLDER_BYTES = SIGNATURE_PLACEHOLDER.encode()


class SignatureError(DecodeError):
    """An unsigned or forged event: refused, never delivered."""


class Signer:
    def __init__(self, secret: str | bytes) -> None:
        if not secret:
            raise ValueError("an empty signing secret protects nothing: set a long random one")
        self._key = secret.encode() if isinstance(secret, str) else secret

    @classmethod
    def from_environment(cls, secret: str | bytes | None = None) -> Signer | None:
        """The signer for `secret`, else for RAVYN_EVENT_SECRET, else None (no signing)."""
        secret = secret or os.environ.get(SECRET_ENVIRONMENT_VARIABLE)
        return cls(secret) if secret else None

    def prepare(self, event: Event) -> Event:
        """The event with the placeholder as its last header, ready to encode and sign."""
        headers = {k: v for k, v in event.headers.items() if k != SIGNATURE_HEADER}
        headers[SIGNATURE_HEADER] = SIGNATURE_PLACEHOLDER
        return msgspec.structs.replace(event, headers=headers)

    def sign(self, encoded: bytes) -> bytes:
        """Replace the placeholder in the encoded event by the HMAC of those bytes."""
        position = encoded.rfind(_PLACEHOLDER_BYTES)
        if position < 0:
            raise ValueError("the encoded event has no signature placeholder: prepare() it first")
        digest = self._digest(encoded)
        return encoded[:position] + digest + encoded[position + len(digest) :]

    def verify(self, data: bytes, event: Event) -> None:
        """Raise SignatureError unless `data` (which decoded to `event`) is signed by us."""
        signature = event.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise SignatureError(
                f"unsigned event {event.name!r} (id {event.id}) refused: this process requires "
                f"signed events; give the producer the same {SECRET_ENVIRONMENT_VARIABLE}"
            )
        claimed = signature.encode()
        position = data.rfind(claimed)
        if len(claimed) != len(_PLACEHOLDER_BYTES) or position < 0:
            raise SignatureError(f"malformed signature on event {event.name!r} (id {event.id})")
        unsigned = data[:position] + _PLACEHOLDER_BYTES + data[position + len(claimed) :]
        if not hmac.compare_digest(self._digest(unsigned), claimed):
            raise SignatureError(
                f"forged or corrupted event {event.name!r} (id {event.id}) refused: its "
                "signature does not match (a different secret?)"
            )

    def _digest(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest().encode()
