"""Helpers of the network generator's tests: specs with real (fresh) addresses, cheap keystores."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from eth_account import Account

from network.spec import NetworkSpec, parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "network" / "examples" / "liuan.toml"
PASSWORD = "correct horse battery"
#: scrypt's work factor in tests: keystores of the same format, derived in milliseconds.
CHEAP_SCRYPT_N = 2**10
PLACEHOLDER = re.compile(r'"REPLACE-WITH-[A-Z-]+-SIGNER-ADDRESS"')


def example_text(addresses: dict[str, str] | None = None) -> str:
    """The liuan example with each placeholder replaced by a fresh address (or the one given per code)."""
    text = EXAMPLE.read_text(encoding="utf-8")

    def replace(match: re.Match[str]) -> str:
        code = match.group(0)[len('"REPLACE-WITH-') : -len('-SIGNER-ADDRESS"')]
        address = (addresses or {}).get(code) or Account.create().address
        return f'"{address}"'

    return PLACEHOLDER.sub(replace, text)


def example_spec(**network: Any) -> NetworkSpec:
    raw = tomllib.loads(example_text())
    raw["network"].update(network)
    return parse_spec(raw)


def small_spec_toml(*, relayer_address: str | None = None, name: str = "pilot") -> str:
    """One department, one validator, one relayer: the cheapest network the CLI can make."""
    relayer = f'address = "{relayer_address}"\n' if relayer_address else ""
    return f"""
[network]
name = "{name}"
chain_id = 4242
block_period_seconds = 2
epoch_length = 30000
request_timeout_seconds = 4
gas_limit = "0x3938700"

[[departments]]
code = "LA-SAMR"
name = "六安市市场监督管理局"
validators = 1
signer_keys = ["{Account.create().address}"]

[[relayers]]
name = "relay-1"
{relayer}"""
