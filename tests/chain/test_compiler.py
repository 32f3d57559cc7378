"""The committed artifacts are what the sources compile to."""

from __future__ import annotations

import json

import pytest

from chain.artifacts import ARTIFACTS_DIR, load_artifact
from chain.compiler import DEPLOYABLE, OPTIMIZER_RUNS, SETTINGS, SOLC_SHIM, compile_all, sources_hash
from tests.conftest import require


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_artifact_matches_current_sources(name: str) -> None:
    artifact = load_artifact(name)
    assert artifact.sources_hash == sources_hash(), (
        f"contracts/build/{name}.json is stale: run scripts/compile_contracts.py and commit the result"
    )


def test_artifacts_are_reproducible() -> None:
    """A fresh compile (through the solc shim) gives byte-identical artifacts."""
    require(SOLC_SHIM.exists(), "the solc shim needs hardhat_local/node_modules")
    fresh = compile_all()
    for name, artifact in fresh.items():
        committed = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert committed == artifact, f"{name}: committed artifact differs from a fresh compile"


def test_deployable_contracts() -> None:
    """The registry, the SM3 proof checker and SM2 key registry it creates, the PropertyRegistry,
    the council and its time lock (OpenZeppelin's)."""
    assert set(DEPLOYABLE) == {
        "DocumentRegistry",
        "Sm3Merkle",
        "Sm2KeyRegistry",
        "PropertyRegistry",
        "GovernanceCouncil",
        "TimelockController",
    }
    assert {p.stem for p in ARTIFACTS_DIR.glob("*.json")} == set(DEPLOYABLE)


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_compiled_for_paris_with_optimizer(name: str) -> None:
    raw = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert raw["settings"]["evmVersion"] == "paris"
    assert raw["settings"]["optimizer"]["enabled"] is True
    assert raw["settings"]["optimizer"]["runs"] == OPTIMIZER_RUNS.get(name, SETTINGS["optimizer"]["runs"])
    assert raw["compiler"]["version"] == "0.8.28"
    # paris: no PUSH0 (0x5f), which Berlin/London-genesis chains reject. Walk the opcodes so
    # that 0x5f inside PUSH data does not count. The council's creation code holds the time
    # lock's whole creation code: walk the deployed code of each, and check the sizes.
    code = bytes.fromhex(raw["deployedBytecode"][2:])
    i = 0
    while i < len(code):
        op = code[i]
        if 0x60 <= op <= 0x7F:
            i += op - 0x5F
        elif op == 0xFE:  # INVALID marks the start of the metadata trailer
            break
        else:
            assert op != 0x5F, f"PUSH0 at byte {i}"
        i += 1
    assert 0 < len(code) <= 24_576, "over the EIP-170 contract size limit"


def test_sources_hash_changes_with_sources(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import chain.compiler as compiler

    before = sources_hash()
    extra = tmp_path / "contracts"
    extra.mkdir()
    for path in compiler.source_files():
        target = extra / path.relative_to(compiler.CONTRACTS_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    (extra / "Common.sol").write_text((extra / "Common.sol").read_text() + "\n// changed\n")
    monkeypatch.setattr(compiler, "CONTRACTS_DIR", extra)
    monkeypatch.setattr(compiler, "REPO_ROOT", tmp_path)
    assert sources_hash() != before
