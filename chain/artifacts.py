"""Load the compiled contract artifacts committed in contracts/build/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from chain.errors import ChainError

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS_DIR = REPO_ROOT / "contracts" / "build"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    sources_hash: str

    def error_abis(self) -> list[dict[str, Any]]:
        return [item for item in self.abi if item.get("type") == "error"]

    def event_abis(self) -> list[dict[str, Any]]:
        return [item for item in self.abi if item.get("type") == "event"]


@cache
def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    path = directory / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ChainError(f"contract artifact {path} is missing; run scripts/compile_contracts.py") from exc
    except (OSError, ValueError) as exc:
        raise ChainError(f"contract artifact {path} is unreadable: {exc}") from exc
    return Artifact(
        name=name,
        abi=raw["abi"],
        bytecode=raw["bytecode"],
        deployed_bytecode=raw["deployedBytecode"],
        sources_hash=raw["sourcesHash"],
    )
