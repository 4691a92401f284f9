"""Payload encryption: an AES-GCM `PayloadCodec`, and chaining it after a client's own codec.

Every payload (workflow and activity inputs and results, update and query
payloads, stream events) is serialized and sealed with AES-256-GCM under the
active key; the key id goes in the payload's metadata, so keys rotate: older
payloads decode as long as their key is still listed. The codec runs before
external storage, so payloads kept in S3 are ciphertext too.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

__all__ = [
    "ENCRYPTED_ENCODING",
    "KEY_ID_METADATA",
    "PAYLOAD_KEY_SECRET",
    "AesGcmCodec",
    "ChainedCodec",
    "generate_key",
]

ENCRYPTED_ENCODING = b"binary/encrypted"
PAYLOAD_KEY_SECRET = "PAYLOAD_KEY_"  # + key id: the secret holding that key
KEY_ID_METADATA = "encryption-key-id"
_NONCE_BYTES = 12


def generate_key() -> str:
    """A new AES-256 key, base64url."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


class AesGcmCodec(PayloadCodec):
    """Seals payloads with AES-256-GCM; opens those sealed with any of its keys.

    Args:
        keys: Keys (base64url, 32 bytes) by key id.
        active: The key id new payloads are sealed with.

    Raises:
        ValueError: The active key is not among `keys`, or a key is not 32 bytes.
    """

    def __init__(self, keys: Mapping[str, str], active: str) -> None:
        if active not in keys:
            raise ValueError(f"payload encryption key {active!r} is not configured")
        self._keys: dict[str, AESGCM] = {}
        for key_id, encoded in keys.items():
            try:
                raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except (ValueError, binascii.Error):
                raw = b""
            if len(raw) != 32:
                raise ValueError(f"payload encryption key {key_id!r} is not 32 base64url bytes")
            self._keys[key_id] = AESGCM(raw)
        self._active = active

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal each payload under the active key."""
        sealer = self._keys[self._active]
        metadata = {"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: self._active.encode()}
        sealed = []
        for payload in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            data = sealer.encrypt(nonce, payload.SerializeToString(), self._active.encode())
            sealed.append(Payload(metadata=metadata, data=nonce + data))
        return sealed

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open sealed payloads (others pass through unchanged).

        Raises:
            ValueError: A payload's key is not configured, or it was tampered with.
        """
        opened = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
                opened.append(payload)
                continue
            key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
            opener = self._keys.get(key_id)
            if opener is None:
                known = ", ".join(sorted(self._keys))
                raise ValueError(
                    f"payload sealed with encryption key {key_id!r}, which is not configured "
                    f"(keys: {known})"
                )
            nonce, data = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
            try:
                plain = opener.decrypt(nonce, data, key_id.encode())
            except InvalidTag:
                raise ValueError(
                    f"payload sealed with key {key_id!r} fails its integrity check"
                ) from None
            opened.append(Payload.FromString(plain))
        return opened


class ChainedCodec(PayloadCodec):
    """Applies codecs in order when encoding, in reverse when decoding."""

    def __init__(self, codecs: Sequence[PayloadCodec]) -> None:
        self._codecs = list(codecs)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encode with each codec in turn."""
        result = list(payloads)
        for codec in self._codecs:
            result = await codec.encode(result)
        return result

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decode with each codec, last first."""
        result = list(payloads)
        for codec in reversed(self._codecs):
            result = await codec.decode(result)
        return result
