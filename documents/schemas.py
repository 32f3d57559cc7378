"""Document-type JSON Schemas (draft 2020-12) bundled in ``documents/schemas/<type>.json``.

Schemas describe the full ``data`` object at issuance. They are not applied to disclosed
documents (hiding fields removes required values).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .canonical import escape_token
from .errors import SchemaViolation, UnknownDocumentType
from .hashing import keccak256

__all__ = ["check_record", "list_types", "load_schema", "type_id", "validate_record"]

_TYPE_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def type_id(doc_type: str) -> str:
    """On-chain id of a document type: ``keccak256(utf8(type))`` as lowercase 0x-hex."""
    return "0x" + keccak256(doc_type.encode("utf-8")).hex()


def _schema_dir() -> Any:
    return resources.files("documents").joinpath("schemas")


@cache
def list_types() -> tuple[str, ...]:
    """Names of all bundled document types, sorted."""
    return tuple(
        sorted(
            entry.name[: -len(".json")]
            for entry in _schema_dir().iterdir()
            if entry.name.endswith(".json")
        )
    )


@cache
def load_schema(doc_type: str) -> dict[str, Any]:
    """The JSON Schema of ``doc_type``; :class:`UnknownDocumentType` if none is bundled."""
    if not _TYPE_RE.fullmatch(doc_type) or doc_type not in list_types():
        raise UnknownDocumentType(doc_type)
    text = _schema_dir().joinpath(f"{doc_type}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(doc_type: str) -> Draft202012Validator:
    schema = load_schema(doc_type)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _error_pointer(error: ValidationError) -> str:
    pointer = "".join("/" + escape_token(str(p)) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        for name in error.validator_value:
            if name not in error.instance and error.message.startswith(repr(name)):
                return pointer + "/" + escape_token(name)
    return pointer


def validate_record(doc_type: str, record: Any) -> list[tuple[str, str]]:
    """Every schema violation of ``record`` as ``(pointer, message)``, sorted.

    A missing required property is reported at the pointer where it should be.
    """
    validator = _validator(doc_type)
    return sorted((_error_pointer(e), e.message) for e in validator.iter_errors(record))


def check_record(doc_type: str, record: Any) -> None:
    """Raise :class:`SchemaViolation` listing every error if ``record`` is invalid."""
    errors = validate_record(doc_type, record)
    if errors:
        raise SchemaViolation(doc_type, errors)
