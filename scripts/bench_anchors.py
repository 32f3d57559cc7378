#!/usr/bin/env python3
"""The project's speed beside OpenAttestation's, measured in the same run on the same machine.

Benchmarks on different days differ by a quarter on a shared 2-core machine, so a comparison with
the peer is only worth the ratio taken in one run. This script runs the two anchor scripts of
``../shared/anchors`` (outside the repository: OpenAttestation v2 ``wrapDocuments``, and oa-verify 8
against a local node) and the project's own equivalents, one after the other, and prints the ratios.

1. Installs the anchors' npm packages into a scratch directory (a temporary one, or ``--scratch DIR``
   to reuse an install; skipped when the pinned versions are there already). Nothing of it enters
   the project's lock.
2. Wrap, three rounds, interleaved so that a slower stretch of the machine hits all alike:
   ``oa_wrap_bench.js N`` (its own Node process each round); the project's ``wrap_batch`` alone
   (salt, hash, one Merkle tree: what ``wrapDocuments`` does); and ``bench_issue.in_process``
   (wrap + AES-256-GCM + CID, ereg/1). All N documents form one tree on both sides.
3. Verify, oa-verify: its own Hardhat node (dev mode), ``oa_verify_bench.js`` deploys a
   DocumentStore, issues one root of ``--verify-documents`` documents and verifies each (document
   hash + DocumentStore status, the DNS identity check left out) with ``--concurrency`` in flight.
   The node is stopped afterwards, also on failure.
4. Verify, e-Registry: ``bench_verify``'s set-up in a short form (one batch of
   ``--verify-documents`` documents anchored on its own Besu-like node, 10 of them revoked, every
   one of them a request body), then ``python -m verifier`` with one worker loaded by wrk at
   ``--concurrency`` connections for 10 s after a 5 s warm-up.

Printed: a table of figure, e-Registry, OpenAttestation and ratio (e-Registry ÷ OpenAttestation;
above 1 is better for throughput, below 1 for latency), or with ``--json`` the same as JSON.

Usage: python scripts/bench_anchors.py [--anchors ../shared/anchors] [--scratch DIR] [--documents 10000]
                                       [--verify-documents 1000] [--concurrency 32] [--skip-verify] [--json]
Needs Node.js and npm, and wrk for the verify part (installed with apt-get when missing, as root).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the project's packages before this folder's scripts

from bench_issue import in_process  # noqa: E402 - scripts/
from bench_verify import build_chain, catch_up, ensure_wrk, http_load  # noqa: E402 - scripts/

from devstack.hardhat import start_hardhat, stop_hardhat  # noqa: E402
from devstack.process import DevstackError  # noqa: E402
from devstack.stack import stop_stack  # noqa: E402
from documents import wrap_batch  # noqa: E402
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence  # noqa: E402
from documents.suite import SUITE_KECCAK  # noqa: E402

#: The anchors' packages, as ../shared/anchors/README.md installs them: name -> version spec.
PACKAGES: dict[str, str] = {
    "@govtechsg/open-attestation": "6",
    "@govtechsg/document-store": "2.6.1",
    "@govtechsg/oa-verify": "8",
    "ethers": "5",
}
ANCHOR_SCRIPTS = ("oa_wrap_bench.js", "oa_verify_bench.js")
DEFAULT_ANCHORS = REPO / ".." / "shared" / "anchors"
ROUNDS = 3
VERIFY_SECONDS = 10  # wrk's measured run, after its 5 s warm-up
NODE_TIMEOUT = 1800.0  # seconds one anchor script may take


class BenchError(Exception):
    """A precondition or a step failed; main() prints it on one line."""


# ------------------------------------------------------------------------ pure parts
def version_matches(version: str, spec: str) -> bool:
    """``spec`` is a major ("6") or an exact version ("2.6.1"), as in the npm install line."""
    parts, wanted = version.split("."), spec.split(".")
    return parts[: len(wanted)] == wanted


def installed_versions(scratch: Path) -> dict[str, str | None]:
    """The version of each anchor package under ``scratch/node_modules`` (None where absent)."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        manifest = scratch / "node_modules" / name / "package.json"
        try:
            found[name] = str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
        except (OSError, ValueError, KeyError):
            found[name] = None
    return found


def is_installed(versions: dict[str, str | None]) -> bool:
    return all(v is not None and version_matches(v, PACKAGES[name]) for name, v in versions.items())


def last_json_line(output: str) -> dict[str, Any]:
    """The JSON object an anchor script prints as its last line (npm or Node may warn before it)."""
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    raise BenchError(f"no JSON result in the output: {output.strip()[-300:]!r}")


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or not theirs:
        return None
    return ours / theirs


def row(figure: str, ours: float | None, theirs: float | None) -> dict[str, Any]:
    return {"figure": figure, "e_registry": ours, "open_attestation": theirs, "ratio": ratio(ours, theirs)}


def format_table(rows: list[dict[str, Any]]) -> str:
    def number(value: float | None, decimals: int) -> str:
        return "—" if value is None else f"{value:,.{decimals}f}"

    cells = [("figure", "e-Registry", "OpenAttestation", "ratio")]
    for r in rows:
        decimals = 1 if "ms" in r["figure"] else 0
        cells.append((r["figure"], number(r["e_registry"], decimals), number(r["open_attestation"], decimals),
                      "—" if r["ratio"] is None else f"{r['ratio']:.2f}×"))
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join([c[0].ljust(widths[0]), *(c[i].rjust(widths[i]) for i in (1, 2, 3))]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- helpers
def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def progress_to_stderr() -> Iterator[None]:
    """The imported benchmarks print progress; stdout stays for the table or the JSON."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {"arch": platform.machine(), "cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "node": node, "load_average": [round(x, 2) for x in os.getloadavg()]}


def npm_install(scratch: Path) -> dict[str, str | None]:
    versions = installed_versions(scratch)
    if is_installed(versions):
        say(f"npm packages already installed in {scratch}")
        return versions
    say(f"installing the anchors' npm packages into {scratch} …")
    scratch.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{spec}" for name, spec in PACKAGES.items()]
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *specs],
                          cwd=scratch, capture_output=True, text=True, check=False)
    versions = installed_versions(scratch)
    if done.returncode != 0 or not is_installed(versions):
        raise BenchError(f"npm install failed in {scratch}: {done.stderr.strip()[-300:] or versions}")
    return versions


def run_anchor(anchors: Path, scratch: Path, script: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "NODE_PATH": str(scratch / "node_modules")}
    try:
        done = subprocess.run(["node", str(anchors / script), *args], cwd=scratch, env=env,
                              capture_output=True, text=True, check=False, timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{script} took more than {NODE_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise BenchError(f"{script} failed (exit {done.returncode}): {tail[0]}")
    return last_json_line(done.stdout)


def wrap_only(n: int) -> float:
    """The project's wrap alone (salt, hash, Merkle tree of all n), the work ``wrapDocuments`` does."""
    records = [sample_business_licence(i) for i in range(n)]
    started = time.perf_counter()
    wrap_batch(records, "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False, suite=SUITE_KECCAK)
    return n / (time.perf_counter() - started)


# ------------------------------------------------------------------------ the figures
def wrap_figures(anchors: Path, scratch: Path, n: int) -> dict[str, list[float]]:
    with progress_to_stderr():
        wrap_only(min(n, 1000))  # warm-up
        in_process(min(n, 1000), n, SUITE_KECCAK)
    runs: dict[str, list[float]] = {"oa_wrap": [], "ereg_wrap": [], "ereg_wrap_encrypt_cid": []}
    steps: list[tuple[str, Callable[[], float]]] = [
        ("oa_wrap", lambda: float(run_anchor(anchors, scratch, "oa_wrap_bench.js", str(n))["docs_per_s"])),
        ("ereg_wrap", lambda: wrap_only(n)),
        ("ereg_wrap_encrypt_cid", lambda: in_process(n, n, SUITE_KECCAK)),
    ]
    for round_ in range(ROUNDS):
        for name, step in steps:
            runs[name].append(step())
        say(f"wrap round {round_ + 1}/{ROUNDS}: " + ", ".join(f"{k} {v[-1]:,.0f} docs/s" for k, v in runs.items()))
    return runs


def oa_verify(anchors: Path, scratch: Path, n: int, concurrency: int) -> dict[str, Any]:
    say(f"oa-verify: {n:,} documents, {concurrency} in flight, own Hardhat node …")
    node = start_hardhat(scratch / "run-oa-verify", mode="dev")
    try:
        result = run_anchor(anchors, scratch, "oa_verify_bench.js", node.rpc_url, str(n), str(concurrency))
    finally:
        stop_hardhat(node)
    if result.get("not_valid"):
        raise BenchError(f"oa-verify found {result['not_valid']} of {n} documents not valid")
    return result


def ereg_verify(n: int, concurrency: int) -> dict[str, Any]:
    say(f"e-Registry verify: {n:,} documents anchored, {concurrency} connections, 1 worker, {VERIFY_SECONDS} s …")
    with tempfile.TemporaryDirectory(prefix="ereg-bench-anchors-") as tmp:
        root = Path(tmp)
        try:
            with progress_to_stderr():
                built = build_chain(root, 1, n, sample_per_batch=n)
                _events, _seconds, index_path = catch_up(root, built)
                result = http_load(root, built, index_path, 1, VERIFY_SECONDS, concurrency)
        finally:
            stop_stack(root / "run")
    if result["non_2xx"] or result["timeouts"]:
        raise BenchError(f"the verifier answered {result['non_2xx']} non-2xx, {result['timeouts']} time-outs")
    return {**result, "revoked": built["revoked"]}


def run(args: argparse.Namespace, anchors: Path, scratch: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "documents": args.documents, "packages": npm_install(scratch)}
    wraps = wrap_figures(anchors, scratch, args.documents)
    median = {k: statistics.median(v) for k, v in wraps.items()}
    rows = [
        row(f"wrap, {args.documents:,} docs in one tree (docs/s, median of {ROUNDS})",
            median["ereg_wrap"], median["oa_wrap"]),
        row("wrap + encrypt + CID (docs/s; OpenAttestation: wrap only)",
            median["ereg_wrap_encrypt_cid"], median["oa_wrap"]),
    ]
    report["wrap_runs"] = wraps
    if not args.skip_verify:
        with progress_to_stderr():
            have_wrk = ensure_wrk()
        if not have_wrk:
            raise BenchError("wrk is needed for the verify figures (apt-get install wrk), or pass --skip-verify")
        oa = oa_verify(anchors, scratch, args.verify_documents, args.concurrency)
        ours = ereg_verify(args.verify_documents, args.concurrency)
        c = args.concurrency
        rows += [
            row(f"verify, {c} in flight (verifications/s)", ours["requests_per_second"], oa["verifications_per_s"]),
            row(f"verify p50 latency, {c} in flight (ms)", ours["p50_ms"], oa["p50_ms"]),
            row(f"verify p99 latency, {c} in flight (ms)", ours["p99_ms"], oa["p99_ms"]),
        ]
        report.update(verify_documents=args.verify_documents, concurrency=c, oa_verify=oa, ereg_verify=ours)
    report["rows"] = rows
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--anchors", type=Path, default=DEFAULT_ANCHORS,
                        help="the folder of oa_wrap_bench.js and oa_verify_bench.js (default ../shared/anchors)")
    parser.add_argument("--scratch", type=Path, help="npm install here and keep it (default: a temp dir)")
    parser.add_argument("--documents", type=int, default=10_000, help="documents wrapped per run (default 10000)")
    parser.add_argument("--verify-documents", type=int, default=1000, help="documents verified (default 1000)")
    parser.add_argument("--concurrency", type=int, default=32, help="verifications in flight (default 32)")
    parser.add_argument("--skip-verify", action="store_true", help="the wrap figures only")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    anchors = args.anchors.resolve()
    try:
        missing = [s for s in ANCHOR_SCRIPTS if not (anchors / s).is_file()]
        if missing:
            raise BenchError(f"anchors not found: {anchors} has no {', '.join(missing)} (pass --anchors DIR)")
        if args.documents < 1 or args.verify_documents < 1:
            raise BenchError("--documents and --verify-documents must be at least 1")
        if args.concurrency < 2:
            raise BenchError("--concurrency must be at least 2 (wrk runs two threads)")
        for tool in ("node", "npm"):
            if shutil.which(tool) is None:
                raise BenchError(f"{tool} is not on PATH (Node.js 20 or newer is needed)")
        if args.scratch is not None:
            report = run(args, anchors, args.scratch.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="ereg-anchors-npm-") as tmp:
                report = run(args, anchors, Path(tmp))
    except (BenchError, DevstackError) as exc:
        print(f"bench_anchors: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        m = report["machine"]
        print(f"machine: {m['arch']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}, Node.js {m['node']}; "
              f"load {m['load_average']} before, {report['load_average_after']} after")
        print(format_table(report["rows"]))
        print("ratio = e-Registry ÷ OpenAttestation (throughput: above 1 is faster; latency: below 1 is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
