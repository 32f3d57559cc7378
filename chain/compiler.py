"""Compile the Solidity sources into the committed artifacts of contracts/build/.

Compilation drives py-solc-x's ``compile_standard`` through the ``solc`` shim in
hardhat_local/bin over the npm ``solc`` package (no compiler download). It is only ever run by
scripts/compile_contracts.py and by the freshness test, never at import or in test set-up.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from chain.artifacts import ARTIFACTS_DIR, REPO_ROOT
from chain.errors import ChainError

CONTRACTS_DIR = REPO_ROOT / "contracts"
NODE_DIR = REPO_ROOT / "hardhat_local"
SOLC_SHIM = NODE_DIR / "bin" / "solc"
SOLC_VERSION = "0.8.28"

#: Contracts that are deployed and so get an artifact (TimelockController: OpenZeppelin's, deployed
#: by the council's constructor; Sm3Merkle and Sm2KeyRegistry, by the DocumentRegistry's: their
#: artifacts give their ABIs).
DEPLOYABLE = (
    "DocumentRegistry",
    "PropertyRegistry",
    "GovernanceCouncil",
    "TimelockController",
    "Sm3Merkle",
    "Sm2KeyRegistry",
)

#: Optimizer runs per contract where the default does not fit: the PropertyRegistry is sized for
#: code (it must stay under the 24,576-byte limit), the default (1,000) for the anchoring hot path.
OPTIMIZER_RUNS = {"PropertyRegistry": 200}

SETTINGS: dict[str, Any] = {
    "evmVersion": "paris",
    "optimizer": {"enabled": True, "runs": 1000},
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.methodIdentifiers",
            ]
        }
    },
}


class CompileError(ChainError):
    """The compiler reported errors, or could not be run (a developer's error, at build time)."""

    code = "COMPILE_ERROR"
    message_zh = "合约编译失败"
    http_status = 500


def source_files() -> list[Path]:
    """The project's Solidity sources, in a stable order."""
    return sorted(p for p in CONTRACTS_DIR.rglob("*.sol") if "build" not in p.parts)


def _dependency_versions() -> dict[str, str]:
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    packages = lock.get("packages", {})
    return {
        name: packages.get(f"node_modules/{name}", {}).get("version", "?")
        for name in ("solc", "@openzeppelin/contracts")
    }


def sources_hash() -> str:
    """A hash of everything an artifact depends on: sources, settings, compiler and library versions."""
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(json.dumps(SETTINGS, sort_keys=True).encode())
    digest.update(json.dumps(OPTIMIZER_RUNS, sort_keys=True).encode())
    digest.update(json.dumps(_dependency_versions(), sort_keys=True).encode())
    return "0x" + digest.hexdigest()


def compile_all() -> dict[str, dict[str, Any]]:
    """Compile every source; return one artifact per deployable contract."""
    import solcx  # imported here: only compilation needs it

    if not SOLC_SHIM.exists() or not (NODE_DIR / "node_modules" / "solc").exists():
        raise CompileError("the solc shim needs the Node packages: run `npm ci` in hardhat_local/")
    sources = {
        path.relative_to(REPO_ROOT).as_posix(): {"content": path.read_text(encoding="utf-8")} for path in source_files()
    }
    digest = sources_hash()
    artifacts: dict[str, dict[str, Any]] = {}
    for runs in sorted({int(SETTINGS["optimizer"]["runs"]), *OPTIMIZER_RUNS.values()}):
        settings = _settings(runs)
        output = _compile(solcx, {"language": "Solidity", "sources": sources, "settings": settings})
        _collect(output, settings, runs, digest, artifacts)
    missing = set(DEPLOYABLE) - set(artifacts)
    if missing:
        raise CompileError(f"no output for {sorted(missing)}")
    return artifacts


def _settings(runs: int) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(json.dumps(SETTINGS))
    settings["optimizer"]["runs"] = runs
    return settings


def _compile(solcx: Any, standard_input: dict[str, Any]) -> dict[str, Any]:
    try:
        output: dict[str, Any] = solcx.compile_standard(
            standard_input,
            solc_binary=SOLC_SHIM,
            base_path=str(REPO_ROOT),
            allow_paths=[str(REPO_ROOT)],
        )
    except solcx.exceptions.SolcError as exc:
        raise CompileError(_compiler_messages(exc.stdout_data or "") or exc.message) from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors))
    return output


def _collect(
    output: dict[str, Any], settings: dict[str, Any], runs: int, digest: str, artifacts: dict[str, dict[str, Any]]
) -> None:
    default_runs = int(SETTINGS["optimizer"]["runs"])
    for source_name, contracts in output["contracts"].items():
        for name, compiled in contracts.items():
            if name not in DEPLOYABLE or OPTIMIZER_RUNS.get(name, default_runs) != runs:
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceName": source_name,
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "methodIdentifiers": compiled["evm"]["methodIdentifiers"],
                "compiler": {"name": "solc", "version": SOLC_VERSION},
                "settings": {k: v for k, v in settings.items() if k != "outputSelection"},
                "dependencies": _dependency_versions(),
                "sourcesHash": digest,
            }


def _compiler_messages(stdout: str) -> str:
    try:
        output = json.loads(stdout)
    except ValueError:
        return ""
    return "\n".join(
        e.get("formattedMessage", e.get("message", ""))
        for e in output.get("errors", [])
        if e.get("severity") == "error"
    )


def write_artifacts(artifacts: dict[str, dict[str, Any]], directory: Path = ARTIFACTS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(artifacts.items()):
        path = directory / f"{name}.json"
        path.write_text(json.dumps(artifact, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
