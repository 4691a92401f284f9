"""The data converter agents need: pydantic payloads, large ones in S3, optional encryption."""

from __future__ import annotations

import dataclasses

from temporalio.contrib.aws.s3driver import S3StorageDriver
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    ExternalStorage,
    PayloadCodec,
)

from a2a_temporal.core.secrets import SecretResolver
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.storage import MinioStorageDriverClient, ObjectStore
from a2a_temporal.trust.encryption import PAYLOAD_KEY_SECRET, AesGcmCodec, ChainedCodec

__all__ = ["compose_data_converter", "payload_encryption"]


def payload_encryption(settings: AgentSettings, secrets: SecretResolver) -> AesGcmCodec | None:
    """The payload encryption codec `settings` ask for (keys from `secrets`), or None.

    Raises:
        ValueError: A key is not in the secret store, or is not a 32-byte key.
    """
    active = settings.payload_encryption_key_id
    if active is None:
        return None
    keys = {}
    for key_id in dict.fromkeys([active, *settings.payload_decryption_key_ids]):
        try:
            keys[key_id] = secrets.resolve(f"{PAYLOAD_KEY_SECRET}{key_id}")
        except KeyError as exc:
            raise ValueError(f"payload encryption key {key_id!r}: {exc.args[0]}") from None
    return AesGcmCodec(keys, active)


def compose_data_converter(
    existing: DataConverter | None,
    store: ObjectStore,
    bucket: str,
    *,
    encryption: PayloadCodec | None = None,
) -> DataConverter:
    """Add what agents need to the client's data converter, keeping the rest.

    Payloads are converted by pydantic (our workflows exchange pydantic
    models; a payload converter already pydantic-based is kept), then encoded
    by the client's payload codec if it has one, then by `encryption`, then
    stored in S3 when over 256 KiB unless external storage is already
    configured. Its failure converter is kept too; with `encryption`, a default
    one encodes failure messages and stack traces as well.

    Raises:
        ValueError: The client uses another custom payload converter.
    """
    base = existing or DataConverter.default
    converter_class = base.payload_converter_class
    if converter_class is DefaultPayloadConverter:
        converter_class = PydanticPayloadConverter
    elif not issubclass(converter_class, PydanticPayloadConverter):
        raise ValueError(
            f"AgentPlugin needs a pydantic-aware payload converter, but the client uses "
            f"{converter_class.__qualname__}; base it on "
            "temporalio.contrib.pydantic.PydanticPayloadConverter"
        )
    storage = base.external_storage or ExternalStorage(
        drivers=[S3StorageDriver(client=MinioStorageDriverClient(store), bucket=bucket)]
    )
    codec = base.payload_codec
    failures = base.failure_converter_class
    if encryption is not None:
        codec = ChainedCodec([codec, encryption]) if codec else encryption
        if failures is DefaultFailureConverter:
            failures = DefaultFailureConverterWithEncodedAttributes
    return dataclasses.replace(
        base,
        payload_converter_class=converter_class,
        external_storage=storage,
        payload_codec=codec,
        failure_converter_class=failures,
    )
