"""Commands that print what to configure: `identity-key`, `encryption-key`, `settings`, `schema`."""

from __future__ import annotations

import argparse
import json
import re
import uuid

from pydantic import BaseModel

from a2a_temporal.cli._common import CliError
from a2a_temporal.core.secrets import SECRET_ENV_PREFIX
from a2a_temporal.core.types import CallResult
from a2a_temporal.settings import ENV_PREFIX, settings_reference
from a2a_temporal.temporal.models import SkillRunInput, TaskState
from a2a_temporal.temporal.pipeline import PipelineInput, PipelineState
from a2a_temporal.trust.encryption import PAYLOAD_KEY_SECRET
from a2a_temporal.trust.encryption import generate_key as generate_payload_key
from a2a_temporal.trust.identity import generate_key

__all__ = ["SCHEMAS", "add_commands"]

SCHEMAS: dict[str, type[BaseModel]] = {
    "skill-run": SkillRunInput,
    "result": CallResult,
    "task-state": TaskState,
    "pipeline": PipelineInput,
    "pipeline-result": PipelineState,
}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the key and schema commands."""
    identity_key = commands.add_parser(
        "identity-key", help="make an identity signing key pair; print its export lines"
    )
    identity_key.add_argument("--key-id", help="name of the key (default: a fresh one)")
    identity_key.set_defaults(handler=_identity_key)

    encryption_key = commands.add_parser(
        "encryption-key", help="make a payload encryption key; print its export lines"
    )
    encryption_key.add_argument("--key-id", help="name of the key (default: a fresh one)")
    encryption_key.set_defaults(handler=_encryption_key)

    settings = commands.add_parser(
        "settings", help="print every setting: its environment variable, default and meaning"
    )
    settings.set_defaults(handler=_settings)

    schema = commands.add_parser("schema", help="print a JSON Schema of the workflow API")
    schema.add_argument("name", choices=sorted(SCHEMAS), help="which document")
    schema.set_defaults(handler=_schema)


def _key_id(args: argparse.Namespace) -> str:
    key_id: str = args.key_id or f"key{uuid.uuid4().hex[:8]}"
    if not re.fullmatch(r"[A-Za-z0-9_]+", key_id):
        raise CliError(f"--key-id {key_id!r}: use letters, digits and _ only")
    return key_id


def _identity_key(args: argparse.Namespace) -> int:
    key_id = _key_id(args)
    private, public = generate_key()
    issuers = json.dumps({key_id: public})
    print("# clients and the gateway (keep the private key secret):")
    print(f"export {ENV_PREFIX}IDENTITY_KEY_ID={key_id}")
    print(f"export {ENV_PREFIX}IDENTITY_SIGNING_KEY={private}")
    print("# workers (add to the keys they already trust to rotate):")
    print(f"export {ENV_PREFIX}IDENTITY_ISSUERS='{issuers}'")
    return 0


def _encryption_key(args: argparse.Namespace) -> int:
    key_id = _key_id(args)
    print("# workers and clients (keep the key secret; add older ids to rotate):")
    print(f"export {ENV_PREFIX}PAYLOAD_ENCRYPTION_KEY_ID={key_id}")
    print(f"export {SECRET_ENV_PREFIX}{PAYLOAD_KEY_SECRET}{key_id}={generate_payload_key()}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(SCHEMAS[args.name].model_json_schema(), indent=2))
    return 0


def _settings(args: argparse.Namespace) -> int:
    print(settings_reference(), end="")
    return 0
