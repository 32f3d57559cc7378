#!/usr/bin/env python3
"""Vendor SM3 and SM4 for the citizen page: ``verifier/static/vendor/sm-crypto.js``.

    .venv/bin/python scripts/vendor_sm_crypto.py           # rebuild the bundle and LICENSES.txt
    .venv/bin/python scripts/vendor_sm_crypto.py --check   # rebuild in scratch, compare, write nothing

WebCrypto has neither SM3 nor SM4, and the page's Content-Security-Policy (``script-src 'self'``)
runs only same-origin scripts, so the ``ereg/1-sm`` suite's algorithms come from the npm package
``sm-crypto-v2`` bundled into one classic script of this origin. The script:

1. installs the pinned versions below into a scratch directory with npm (exact versions, the
   transitive ``@noble`` packages pinned by ``overrides``, no install scripts run) and checks each
   installed package's version and its sha512 integrity against the ones recorded here;
2. bundles ``{sm3, sm4}`` with esbuild (pinned) into an IIFE: a global ``SmCrypto`` in a page,
   ``module.exports`` in Node, a header naming every package version;
3. writes ``LICENSES.txt`` beside it: the full licence text of sm-crypto-v2 and of each
   ``@noble`` package it depends on, with the modules of each that the bundle holds.

Tree shaking. The package ships one ES module (``dist/index.mjs``) whose top-level statements
build the SM2 curve (``weierstrass(...)``, ``Field(...)``), start SM2's random pool and fill the
``sm2`` namespace: calls esbuild must assume have effects, which would keep all of SM2 and most of
``@noble/curves`` (56 KB instead of 18 KB). :data:`PURE_EDITS` marks those few statements pure
(annotations, and two property reads wrapped in a pure arrow so they can go too; nothing the
SM3/SM4 code runs is changed), and ``BigInt`` is declared pure. Each edit must match exactly once:
a different package text fails here rather than building something else.

The output is deterministic: ``--check`` rebuilds from the registry and compares byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "verifier" / "static" / "vendor"
BUNDLE = VENDOR / "sm-crypto.js"
LICENSES = VENDOR / "LICENSES.txt"

SM_CRYPTO = "sm-crypto-v2"
ESBUILD = "esbuild"
#: name -> exact version
VERSIONS: dict[str, str] = {
    SM_CRYPTO: "1.15.1",
    "@noble/ciphers": "1.3.0",
    "@noble/curves": "1.9.7",
    "@noble/hashes": "1.8.0",
    ESBUILD: "0.28.2",
}
#: name -> sha512 integrity of its tarball, as npm records it in node_modules/.package-lock.json
INTEGRITY: dict[str, str] = {
    SM_CRYPTO: "sha512-QN96kvbM6YMULb4WmYiyPBhEj6jhIQgvbMnJ2cU5ZumfptLkZwvaIpBacQGZXvPD6GKf27+eNDlXKR+er0VeBQ==",
    "@noble/ciphers": "sha512-2I0gnIVPtfnMw9ee9h1dJG7tp81+8Ob3OJb3Mv37rx5L40/b0i7djjCVvGOVqc9AEIQyvyu1i6ypKdFw8R8gQw==",
    "@noble/curves": "sha512-gbKGcRUYIjA3/zCCNaWDciTMFI0dCkvou3TL8Zmy5Nc7sJ47a0jtOeZoTaMxkuqRo9cRhjOdZJXegxYE5FN/xw==",
    "@noble/hashes": "sha512-jCs9ldd7NwzpgXDIf6P3+NrHh9/sD6CQdxHyjQI+h/6rDNo88ypBxxz45UDuZHz9r3tNz7N/VInSVoVdtXEI4A==",
    ESBUILD: "sha512-HKVLS8dvII+xoKW9kmqxbRKrnWEXfJJr/FZhhJmiqIB0e053QNYFqOBouTMO/k5sID4MvCiUCvv8b9M4h32wIA==",
}
#: the packages whose code may end up in the bundle (and whose licences LICENSES.txt carries)
LIBRARIES = [SM_CRYPTO, "@noble/ciphers", "@noble/curves", "@noble/hashes"]

#: (text of sm-crypto-v2's dist/index.mjs, its replacement): SM2 set-up that SM3 and SM4 never use
PURE_EDITS: list[tuple[str, str]] = [
    ("\n__export(sm2_exports, {", "\n/* @__PURE__ */ __export(sm2_exports, {"),
    ("\ninitRNGPool();\n", "\n/* @__PURE__ */ initRNGPool();\n"),
    ("var sm2Fp = Field(", "var sm2Fp = /* @__PURE__ */ Field("),
    ("var sm2Curve = weierstrass(", "var sm2Curve = /* @__PURE__ */ weierstrass("),
    ("var field = Field(BigInt(sm2Curve.CURVE.n));",
     "var field = /* @__PURE__ */ (() => Field(BigInt(sm2Curve.CURVE.n)))();"),
    ("var { getSharedSecret } = sm2Curve;",
     "var getSharedSecret = /* @__PURE__ */ (() => sm2Curve.getSharedSecret)();"),
]

ENTRY = "export { sm3, sm4 } from 'sm-crypto-v2';\n"

BUILD_MJS = r"""
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const edits = JSON.parse(fs.readFileSync('edits.json', 'utf8'));
const pureSetUp = {
  name: 'pure-sm2-set-up',
  setup(build) {
    build.onLoad({ filter: /[\\/]sm-crypto-v2[\\/]dist[\\/]index\.mjs$/ }, async (args) => {
      let text = await fs.promises.readFile(args.path, 'utf8');
      for (const [from, to] of edits) {
        const count = text.split(from).length - 1;
        if (count !== 1) throw new Error(`${args.path}: found ${count} times, not once: ${JSON.stringify(from)}`);
        text = text.replace(from, () => to);
      }
      return { contents: text, loader: 'js' };
    });
  },
};
const result = await esbuild.build({
  entryPoints: ['entry.mjs'],
  bundle: true,
  format: 'iife',
  globalName: 'SmCrypto',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'eof',
  charset: 'ascii',
  pure: ['BigInt'],
  metafile: true,
  outfile: 'out.js',
  logLevel: 'warning',
  plugins: [pureSetUp],
});
fs.writeFileSync('meta.json', JSON.stringify(result.metafile));
"""

FOOTER = 'if (typeof module === "object" && module && module.exports) module.exports = SmCrypto;\n'


def run(command: list[str], cwd: Path) -> None:
    print("+", " ".join(command), file=sys.stderr)
    subprocess.run(command, cwd=cwd, check=True)


def install(scratch: Path) -> None:
    """The pinned packages in ``scratch/node_modules``, each checked against :data:`PACKAGES`."""
    manifest = {
        "name": "ereg-vendor-sm-crypto",
        "version": "0.0.0",
        "private": True,
        "dependencies": {name: VERSIONS[name] for name in (SM_CRYPTO, ESBUILD)},
        "overrides": {name: version for name, version in VERSIONS.items() if name.startswith("@noble/")},
    }
    (scratch / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed (Node.js 20 or newer)")
    run([npm, "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], scratch)
    lock = json.loads((scratch / "node_modules" / ".package-lock.json").read_text(encoding="utf-8"))
    installed = {path.removeprefix("node_modules/"): entry for path, entry in lock["packages"].items()}
    problems = []
    for name, version in VERSIONS.items():
        entry = installed.get(name)
        if entry is None:
            problems.append(f"{name} is not installed")
        elif (entry.get("version"), entry.get("integrity")) != (version, INTEGRITY[name]):
            got = f"{entry.get('version')} {entry.get('integrity')}"
            problems.append(f"{name}: installed {got}, pinned {version} {INTEGRITY[name]}")
    # besides the pinned ones, only esbuild's binary for this platform (pinned exactly by esbuild)
    for path, entry in installed.items():
        if path in VERSIONS:
            continue
        if path.startswith("@esbuild/") and entry.get("version") == VERSIONS[ESBUILD]:
            continue
        problems.append(f"unexpected package {path} {entry.get('version')}")
    if problems:
        sys.exit("the installed packages are not the pinned ones:\n  " + "\n  ".join(problems))


def package_of(module_path: str) -> str:
    """``node_modules/@noble/ciphers/esm/utils.js`` -> ``@noble/ciphers``."""
    parts = module_path.split("node_modules/")[-1].split("/")
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def licence_text(package_dir: Path) -> str:
    found = sorted(p for p in package_dir.iterdir() if p.name.upper().startswith(("LICENSE", "LICENCE")))
    if not found:
        sys.exit(f"{package_dir} has no licence file")
    return found[0].read_text(encoding="utf-8").strip()


def copyright_lines(text: str) -> str:
    """The licence's copyright lines, joined; ASCII only like the bundle's code (charset 'ascii')."""
    lines = [line.strip() for line in text.splitlines() if line.strip().lower().startswith("copyright")]
    return "; ".join(lines).replace("\u00a9", "(c)")


def build(scratch: Path) -> tuple[bytes, bytes]:
    """The bundle and LICENSES.txt, built in ``scratch``."""
    install(scratch)
    (scratch / "entry.mjs").write_text(ENTRY, encoding="utf-8")
    (scratch / "edits.json").write_text(json.dumps(PURE_EDITS), encoding="utf-8")
    (scratch / "build.mjs").write_text(BUILD_MJS, encoding="utf-8")
    node = shutil.which("node")
    if node is None:
        sys.exit("node is needed (Node.js 20 or newer)")
    run([node, "build.mjs"], scratch)
    meta = json.loads((scratch / "meta.json").read_text(encoding="utf-8"))
    modules: dict[str, list[str]] = {name: [] for name in LIBRARIES}
    for output in meta["outputs"].values():
        for path, used in output["inputs"].items():
            if "node_modules/" not in path or not used["bytesInOutput"]:
                continue
            name = package_of(path)
            if name not in modules:
                sys.exit(f"the bundle holds code of {name}, which is not a pinned library")
            modules[name].append(path.split(f"node_modules/{name}/", 1)[1])

    texts = {name: licence_text(scratch / "node_modules" / name) for name in LIBRARIES}
    for name in LIBRARIES:
        manifest = json.loads((scratch / "node_modules" / name / "package.json").read_text(encoding="utf-8"))
        if manifest.get("license") != "MIT" or "Permission is hereby granted" not in texts[name]:
            sys.exit(f"{name}: expected the MIT licence, found {manifest.get('license')}")
    notices = "".join(f" *   {name} {VERSIONS[name]} (MIT): {copyright_lines(texts[name])}\n" for name in LIBRARIES)
    header = (
        "/*! sm-crypto.js: SM3 (GB/T 32905) and SM4 (GB/T 32907, ECB/CBC/GCM) for the e-Registry citizen page.\n"
        f" * Built with esbuild {VERSIONS[ESBUILD]} by scripts/vendor_sm_crypto.py (sm3, sm4 and what they use) from\n"
        f"{notices}"
        " * The licences are in LICENSES.txt beside this file. Generated: do not edit, rerun the script.\n"
        " * A classic script: the global SmCrypto = {sm3, sm4} in a page, module.exports in Node.\n"
        " */\n"
    )
    code = (scratch / "out.js").read_text(encoding="utf-8")
    bundle = (header + code.rstrip("\n") + "\n" + FOOTER).encode("utf-8")

    sections = [
        "Licences of the code in sm-crypto.js (generated by scripts/vendor_sm_crypto.py).\n"
        f"sm-crypto.js is {len(bundle)} bytes, SHA-256 {hashlib.sha256(bundle).hexdigest()}.\n"
    ]
    for name in LIBRARIES:
        held = ", ".join(sorted(modules[name])) or f"none (a dependency of {SM_CRYPTO}, whose code carries its notice)"
        sections.append(
            f"{'=' * 78}\n{name} {VERSIONS[name]} (MIT)\nmodules in the bundle: {held}\n{'-' * 78}\n{texts[name]}\n"
        )
    return bundle, "\n".join(sections).encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="rebuild and compare with the files; write nothing")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (its path is printed)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ereg-sm-crypto-"))
    try:
        bundle, licences = build(scratch)
    finally:
        if args.keep:
            print(f"scratch directory: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.check:
        stale = [path for path, data in ((BUNDLE, bundle), (LICENSES, licences))
                 if not path.exists() or path.read_bytes() != data]
        for path in stale:
            print(f"{path.relative_to(ROOT)} differs from a fresh build", file=sys.stderr)
        if not stale:
            print(f"{BUNDLE.relative_to(ROOT)} and {LICENSES.name} are the build of the pinned packages")
        return 1 if stale else 0
    VENDOR.mkdir(parents=True, exist_ok=True)
    BUNDLE.write_bytes(bundle)
    LICENSES.write_bytes(licences)
    print(f"wrote {BUNDLE.relative_to(ROOT)} ({len(bundle)} bytes) and {LICENSES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
