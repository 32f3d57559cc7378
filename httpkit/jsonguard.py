"""The one strict, linear-time JSON parser of the services, applied before any other work.

The same rules for every body shape (a bare document, ``{"document": …}``, a relay request):
UTF-8 only (no BOM, no UTF-16/32), no duplicate key at any depth, no lone surrogate (raw or
escaped), nesting, number length and value count bounded, no NaN/Infinity. The scanner is
:mod:`documents.jsontext` (floor 1, shared with ``documents.model.load_json`` so a document
reads the same whether it came as a file or in a body); this module sets the HTTP limits and
turns its refusals into a 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from documents.errors import MalformedDocument
from documents.jsontext import WorkMeter, loads_strict
from httpkit.errors import HttpError

__all__ = ["JsonLimits", "JsonRefused", "WorkMeter", "parse_json"]


@dataclass(frozen=True)
class JsonLimits:
    """Bounds of a JSON body: nesting depth, characters of one number, values in all."""

    max_depth: int = 64
    max_number_chars: int = 64
    max_values: int = 20_000


class JsonRefused(HttpError):
    """A body that is not strict JSON within the limits: 400 ``MALFORMED_JSON``.

    ``reason``/``reason_zh`` are the words without the status framing (for logs and tests).
    """

    code = "MALFORMED_JSON"
    message_zh = "请求体不是可接受的 JSON"
    http_status = 400

    def __init__(self, reason: str, reason_zh: str, *, code: str = "MALFORMED_JSON", status: int = 400) -> None:
        super().__init__(
            status, code, f"the body is not accepted JSON: {reason}", f"请求体不是可接受的 JSON：{reason_zh}"
        )
        self.reason = reason
        self.reason_zh = reason_zh


_DEFAULT_LIMITS = JsonLimits()


def parse_json(raw: bytes, limits: JsonLimits = _DEFAULT_LIMITS, *, meter: WorkMeter | None = None) -> Any:
    """The value of the JSON body ``raw``, or :class:`JsonRefused`; work linear in ``len(raw)``.

    Integers outside ±(2**53-1) are read as the doubles they denote, as ``load_json`` does.
    """
    try:
        return loads_strict(
            raw,
            max_depth=limits.max_depth,
            max_number_chars=limits.max_number_chars,
            max_values=limits.max_values,
            meter=meter,
        )
    except MalformedDocument as exc:
        raise JsonRefused(exc.reason, exc.reason_zh) from None
