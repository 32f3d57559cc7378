#!/usr/bin/env python3
"""The whole system on the local stack, in one command.

Starts a Besu-like chain (Hardhat, free gas) and a js-ipfs daemon, deploys a 3-of-5 governance
council of bureau heads (its own time lock), the DocumentRegistry it governs and the
PropertyRegistry. The council's first proposal registers four departments of 六安市 with their
signing keys, document types and roles and grants the PropertyRegistry its role: each call is
shown in words, three members sign, the proposal is scheduled, waits out the time lock (10 s
here, e.g. 48 h in production) and is executed. Then it issues documents of several types
(encrypted into IPFS, anchored in one transaction per batch), starts the verifier, prints its
URL and one QR code, then verifies a genuine, a tampered, a revoked and a selectively
disclosed document. Finally a second-hand flat changes hands at one window: through the city
platform's relay (registry_api), each step signed by its department's key, the unit is
registered, a transfer case opened with a new property certificate and approved by TAX, HOUSING
and NATRES; the old certificate then verifies as superseded and the new one as the property's
current title. Services stay up until Ctrl-C (or stop at once with --once).

Usage: python scripts/demo.py [--once] [--port 8000] [--out demo-output]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the project's packages before this folder's scripts

from chain.client import ChainClient, connect  # noqa: E402
from chain.deploy import deploy_council, deploy_registry  # noqa: E402
from chain.governance import (  # noqa: E402
    Call,
    CouncilClient,
    ProposalFile,
    ProposalKind,
    classify,
    decode_call,
    describe,
    new_proposal,
    sign_proposal,
)
from chain.property import (  # noqa: E402
    PROPERTY_REGISTRY_ROLE,
    Certificate,
    Owner,
    PropertyCall,
    PropertyClient,
    certificate_unit,
    deploy_property_registry,
    new_salt,
    new_unit_salt,
    owner_commitment,
)
from chain.registry import RegistryClient  # noqa: E402
from chain.sender import Receipt, TransactionSender  # noqa: E402
from chain.settings import ChainSettings  # noqa: E402
from chain.types import ZERO32, Action, Role, StatusChange, department_id, type_id  # noqa: E402
from devstack.hardhat import rpc  # noqa: E402
from devstack.process import free_port, port_open  # noqa: E402
from devstack.stack import Stack, start_stack, stop_stack  # noqa: E402
from documents import document_to_bytes, hide_fields, parse_document  # noqa: E402
from documents.samples import sample_business_licence, sample_record  # noqa: E402
from documents.suite import SUITE_KECCAK, suite_named  # noqa: E402
from issuer.issuing import Issuer, IssueSettings  # noqa: E402
from issuer.keystore import SM2_SUBDIR, Keystore, Sm2Keystore  # noqa: E402
from issuer.relay_client import RelayClient, StepAnswer  # noqa: E402
from issuer.relayed import relay_property_step  # noqa: E402
from storage import open_store  # noqa: E402

DEPARTMENTS = [
    # code, name, unified social credit code (fictitious), roles, document types
    ("LA-SAMR", "六安市市场监督管理局", "11341500MB0000001A", Role.NONE, ["business-license", "food-business-license"]),
    (
        "LA-NATRES",
        "六安市自然资源和规划局",
        "11341500MB0000002B",
        Role.NATRES,
        ["property-certificate", "mortgage-certificate"],
    ),
    ("LA-TAX", "国家税务总局六安市税务局", "11341500MB0000003C", Role.TAX, []),
    ("LA-HOUSING", "六安市住房和城乡建设局", "11341500MB0000004D", Role.HOUSING, []),
]

DOCUMENT_TYPES = ("business-license", "food-business-license", "property-certificate", "mortgage-certificate")

#: The governance council: five bureau heads (keystore name, title); three approve, two veto.
COUNCIL = [
    ("council-data", "六安市数据资源局局长"),
    ("council-samr", "六安市市场监督管理局局长"),
    ("council-natres", "六安市自然资源和规划局局长"),
    ("council-tax", "国家税务总局六安市税务局局长"),
    ("council-housing", "六安市住房和城乡建设局局长"),
]
THRESHOLD, VETO_THRESHOLD = 3, 2
#: The time lock of this local demo chain; production uses e.g. 48 h, time for a veto.
DEMO_DELAY = 10
PRODUCTION_DELAY = 48 * 3600
SIGNERS = (0, 2, 3)  # any three members: here the data bureau, NATRES and TAX heads

BOLD, GREEN, RED, GREY, RESET = "\033[1m", "\033[32m", "\033[31m", "\033[90m", "\033[0m"


def say(text: str) -> None:
    print(f"{BOLD}==> {text}{RESET}", flush=True)


def verdict_line(label: str, verdict: dict[str, Any]) -> str:
    colour = {"VALID": GREEN, "INVALID": RED}.get(verdict["verdict"], GREY)
    failed = [f"{f['name']}={f['code']}" for f in verdict["fragments"] if f["status"] not in ("VALID", "SKIPPED")]
    detail = f" ({', '.join(failed)})" if failed else ""
    return f"  {label:<34} {colour}{verdict['verdict']}{RESET} {verdict['message_zh']}{detail}"


def post_json(url: str, body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    request = urllib.request.Request(url, data=body, headers={"content-type": content_type}, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local verifier
        result: dict[str, Any] = json.loads(response.read())
        return result


def property_line(verdict: dict[str, Any]) -> str:
    """The PROPERTY_STATUS fragment in one line: current or superseded (by what, when), encumbrances."""
    fragment = next((f for f in verdict["fragments"] if f["name"] == "PROPERTY_STATUS"), None)
    if fragment is None:
        return "  (no PROPERTY_STATUS fragment)"
    details = fragment.get("details") or {}
    parts = [f"PROPERTY_STATUS={fragment['code']}"]
    if details.get("supersededBy"):
        parts.append(f"by {str(details['supersededBy'])[:18]}… at {details.get('supersededAt')}")
    for name in ("mortgages", "seizures"):
        if name in details:
            parts.append(f"{name} {len(details[name] or [])}")
    return f"  {'':<34} {' '.join(parts)} {fragment['message_zh']}"


def wait_healthy(
    base: str, process: subprocess.Popen[bytes], timeout: float = 60.0, name: str = "the verifier"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited during start-up; see its log")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                if json.loads(response.read()).get("status") == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{name} did not become healthy in time")


def main() -> int:
    parser = argparse.ArgumentParser(description="e-Registry demo on the local stack")
    parser.add_argument("--once", action="store_true", help="stop everything after the checks")
    parser.add_argument("--port", type=int, default=8000, help="verifier port (another is chosen if busy)")
    parser.add_argument("--out", type=Path, default=REPO / "demo-output")
    args = parser.parse_args()

    run_dir = REPO / ".run" / "demo"
    stop_stack(run_dir)  # a previous demo's services, by their pid files
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    home = run_dir / "home"

    say("Starting the local stack: Besu-like chain (Hardhat, free gas) and js-ipfs")
    stack: Stack = start_stack(run_dir, mode="besu")
    services: list[subprocess.Popen[bytes]] = []
    try:
        print(f"  chain {stack.chain_id} at {stack.rpc_url}; IPFS API {stack.ipfs_api}")
        settings = ChainSettings(rpc_url=stack.rpc_url, chain_id=stack.chain_id, deployments_dir=home / "deployments")
        client = connect(settings)

        say("Creating encrypted keys (scrypt keystores, owner-only): deployer, relay, departments, council")
        password = secrets.token_urlsafe(16)  # this run's keys only; never written anywhere
        keystore = Keystore(home / "keys")
        accounts = {}
        titles = dict(COUNCIL)
        for name in ["deployer", "relayer", *[code.lower() for code, *_ in DEPARTMENTS], *titles]:
            info = keystore.create(name, password)
            accounts[name] = keystore.load(name, password)
            print(f"  {name:<16} {info.address}  {titles.get(name, '')}".rstrip())
        deployer = TransactionSender(client, accounts["deployer"])
        members = [accounts[name] for name, _ in COUNCIL]
        # the market regulator also signs its 国密 batches: an SM2 key (PBKDF2-HMAC-SM3 + SM4-GCM)
        sm2_store = Sm2Keystore(home / "keys" / SM2_SUBDIR)
        sm2_info = sm2_store.create("la-samr-sm2", password)
        samr_sm2 = sm2_store.load("la-samr-sm2", password)
        print(f"  {'la-samr-sm2':<16} SM2 {sm2_info.public_key[:26]}…")

        say(f"Deploying the governance council: {THRESHOLD} of {len(COUNCIL)} bureau heads approve, "
            f"{VETO_THRESHOLD} veto")
        council_deployment = deploy_council(
            client,
            deployer,
            deployments_dir=settings.deployments_dir,
            members=[m.address for m in members],
            threshold=THRESHOLD,
            veto_threshold=VETO_THRESHOLD,
            delay=DEMO_DELAY,
        )
        council = CouncilClient(client, council_deployment.address)
        print(f"  GovernanceCouncil  {council.address}; its time lock {council.timelock()}")
        print(f"  time lock: {council.min_delay()} s on this local chain; production uses e.g. "
              f"{PRODUCTION_DELAY // 3600} h ({PRODUCTION_DELAY:,} s), time for {VETO_THRESHOLD} members to veto")

        say("Deploying the registries (the deployer keeps no role: the council governs)")
        deployment = deploy_registry(
            client, deployer, deployments_dir=settings.deployments_dir, council=council.address
        )
        registry = RegistryClient(client, deployment.address)
        print(f"  DocumentRegistry   {deployment.address} (block {deployment.block_number})")
        draft = Draft()  # the council's first proposal, gathered call by call
        prop_deployment = deploy_property_registry(
            client,
            deployer,
            deployments_dir=settings.deployments_dir,
            document_registry=registry.address,
            governance=draft,
        )
        prop = PropertyClient(client, prop_deployment.address)
        print(f"  PropertyRegistry   {prop.address} (its role in the DocumentRegistry: by the council)")
        held = [r for r, role in (("admin", ZERO32), ("governor", registry.governor_role()))
                if registry.has_role(role, deployer.address)]
        print(f"  deployer's roles in the DocumentRegistry: {', '.join(held) or 'none'}")

        say("The council's first proposal: departments, their keys, document types and roles")
        for doc_type in DOCUMENT_TYPES:
            registry.register_document_type(draft, doc_type)
        for code, name, credit, roles, types in DEPARTMENTS:
            dept = department_id(code)
            registry.register_department(draft, dept, name, credit, roles)
            registry.add_signer_key(draft, dept, accounts[code.lower()].address, int(time.time()) - 60)
            if code.lower() == "la-samr":
                public = samr_sm2.public_key.to_bytes()
                registry.add_sm2_key(draft, dept, public[:32], public[32:], int(time.time()) - 60)
            for doc_type in types:
                registry.authorize_document_type(draft, dept, type_id(doc_type))
        names = {department_id(code): name for code, name, *_ in DEPARTMENTS}
        type_names = ", ".join(f"0x{type_id(t).hex()[:8]}… = {t}" for t in DOCUMENT_TYPES)
        print(f"  {GREY}document types: {type_names}{RESET}")
        for number, call in enumerate(draft.calls, start=1):
            # a department being registered is named by the call itself
            known = None if decode_call(call).function == "registerDepartment" else names
            english, chinese = describe(call, known)
            print(f"  {number:>2}. {chinese}")
            print(f"      {GREY}{english}{RESET}")
        run_proposal(client, council, draft.calls, members, titles, deployer, run_dir / "proposal-1.json")
        if not registry.has_role(PROPERTY_REGISTRY_ROLE, prop.address):
            raise SystemExit("the proposal did not grant the PropertyRegistry its role")
        for code, name, credit, roles, types in DEPARTMENTS:
            role_names = "+".join(r.name or "" for r in Role if r and r in roles) or "-"
            active = registry.department(department_id(code)).active
            print(f"  {name} {credit} roles {role_names}; issues {', '.join(types) or '-'}"
                  f"{'' if active else ' (NOT ACTIVE)'}")

        port = args.port if not port_open("127.0.0.1", args.port) else free_port()
        base = f"http://127.0.0.1:{port}"
        store = open_store(stack.ipfs_api, home / "blocks")

        say("Issuing documents: validate, wrap, encrypt into IPFS, anchor one root per batch")
        # the flat's unit is registered for the first time: NATRES draws its salt, which every
        # certificate of the unit carries (the buyer's below too); its id on chain is keccak(salt ‖ number)
        flat = sample_record("property-certificate")
        flat["unitSalt"] = "0x" + new_unit_salt().hex()
        batches = {
            ("la-samr", "business-license", "keccak"): [sample_business_licence(i) for i in range(5)],
            ("la-samr", "food-business-license", "keccak"): [sample_record("food-business-license")],
            ("la-natres", "property-certificate", "keccak"): [flat],
            # the same kind of licence in the 国密 suite: SM3 hashes, SM4-GCM envelope, SM2-signed root
            ("la-samr", "business-license", "sm"): [sample_business_licence(i) for i in range(10, 12)],
        }
        issued: dict[str, list[Path]] = {}
        for (key, doc_type, suite_name), records in batches.items():
            suite = suite_named(suite_name)
            label = doc_type if suite is SUITE_KECCAK else f"{doc_type}-sm"
            inputs = run_dir / "records" / label
            inputs.mkdir(parents=True)
            files = []
            for i, record in enumerate(records):
                path = inputs / f"{doc_type}-{i + 1:02d}.json"
                path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
                files.append(path)
            out_dir = args.out / label
            issue_settings = IssueSettings(
                doc_type=doc_type,
                out_dir=out_dir,
                verifier_url=base,
                valid_from=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60)),
                batch_size=len(files),
                suite=suite,
            )
            report = Issuer(
                issue_settings,
                registry=registry,
                sender=TransactionSender(client, accounts[key]),
                store=store,
                sm2_key=samr_sm2 if suite.signed else None,
            ).run(files)
            batch = report.batches[0]
            issued[label] = [out_dir / f"{p.stem}.ereg.json" for p in files]
            print(f"  {len(files)} × {doc_type} ({suite.version}): root {batch.root[:18]}… "
                  f"anchored in tx {batch.tx_hash[:18]}…")

        say("Starting the verifier (it reads only the chain and IPFS; it knows no issuer)")
        env = {
            **os.environ,
            "EREG_RPC_URL": stack.rpc_url,
            "EREG_CHAIN_ID": str(stack.chain_id),
            "EREG_REGISTRY_ADDRESS": deployment.address,
            "EREG_PROPERTY_REGISTRY_ADDRESS": prop.address,
            "EREG_INDEX_START_BLOCK": str(deployment.block_number or 0),
            "EREG_INDEX_PATH": str(run_dir / "verifier-index.sqlite"),
            "EREG_IPFS_API": stack.ipfs_api or "",
        }
        log = (run_dir / "verifier.log").open("wb")
        verifier = subprocess.Popen(
            [sys.executable, "-m", "verifier", "--port", str(port), "--log-level", "warning"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        services.append(verifier)
        wait_healthy(base, verifier)
        print(f"  verifier: {base}   (API docs: {base}/docs)")

        licences = issued["business-license"]
        first_url = licences[0].with_name(licences[0].name.removesuffix(".ereg.json") + ".qr.url").read_text().strip()
        say("The QR code of the first licence: open its URL in a browser here (the key stays in the fragment)")
        import segno

        segno.make(first_url, error="m").terminal(compact=True)
        print(f"  {first_url}")
        print(f"  documents and their QR codes (PNG, SVG) in {args.out}/<type>/")

        say("Verifying four documents")
        genuine = post_json(f"{base}/v1/verify", licences[0].read_bytes())
        print(verdict_line("genuine licence", genuine))

        tampered = json.loads(licences[1].read_text(encoding="utf-8"))
        tampered["data"]["registeredCapital"]["amount"] = "99999999.00"
        print(
            verdict_line(
                "tampered licence (capital changed)", post_json(f"{base}/v1/verify", json.dumps(tampered).encode())
            )
        )

        doc = parse_document(licences[2].read_bytes())
        change = StatusChange(
            Action.REVOKE,
            bytes.fromhex(doc.proof.merkle_root[2:]),
            bytes.fromhex(doc.proof.target_hash[2:]),
            [bytes.fromhex(p[2:]) for p in doc.proof.proof],
            reason=1,
        )
        registry.change_status(TransactionSender(client, accounts["la-samr"]), change)
        revoked: dict[str, Any] = {}
        for _ in range(100):  # the verifier's index follows the chain within a second
            revoked = post_json(f"{base}/v1/verify", licences[2].read_bytes())
            if revoked["verdict"] == "INVALID":
                break
            time.sleep(0.1)
        print(verdict_line("revoked licence", revoked))

        disclosed = hide_fields(parse_document(licences[3].read_bytes()), ["/legalRepresentative", "/phone"])
        disclosed_path = args.out / "disclosed.ereg.json"
        disclosed_path.write_bytes(document_to_bytes(disclosed))
        result = post_json(f"{base}/v1/verify", disclosed_path.read_bytes())
        hidden = result["document"]["hiddenFields"] if result.get("document") else "?"
        print(verdict_line(f"disclosed licence ({hidden} fields hidden)", result))
        qr_check = post_json(f"{base}/v1/verify", first_url.encode(), "text/plain")
        print(verdict_line("window scan of the QR code", qr_check))

        say("The 国密 licences (ereg/1-sm): SM3, SM4-GCM and the department's SM2 signature, checked on chain")
        sm_licences = issued["business-license-sm"]
        sm_doc = json.loads(sm_licences[0].read_text(encoding="utf-8"))
        print(f"  {GREY}version {sm_doc['version']}; SM2 key {sm_doc['proof']['signature']['key'][:26]}…{RESET}")
        print(verdict_line("国密 licence", post_json(f"{base}/v1/verify", sm_licences[0].read_bytes())))
        sm_url_file = sm_licences[0].with_name(sm_licences[0].name.removesuffix(".ereg.json") + ".qr.url")
        sm_url = sm_url_file.read_text().strip()
        sm_scan = post_json(f"{base}/v1/verify", sm_url.encode(), "text/plain")
        print(verdict_line("window scan of its QR code (SM4 key)", sm_scan))
        sm_tampered = json.loads(sm_licences[1].read_text(encoding="utf-8"))
        sm_tampered["data"]["name"] = "另一家公司"
        print(verdict_line("tampered 国密 licence", post_json(f"{base}/v1/verify", json.dumps(sm_tampered).encode())))
        print(f"  open on a phone: {sm_url}")

        say("The disclosed licence as a W3C Verifiable Credential 2.0, checked by `ereg verify` (no verifier service)")
        cli_env = {
            **os.environ,
            "EREG_HOME": str(home),
            "EREG_RPC_URL": stack.rpc_url,
            "EREG_CHAIN_ID": str(stack.chain_id),
            "EREG_REGISTRY_ADDRESS": deployment.address,
            "EREG_DEPLOYMENTS_DIR": str(settings.deployments_dir),
            "EREG_KEY_PASSWORD": password,  # to the child's environment only
        }
        credential_path = args.out / "disclosed.vc.jwt"
        export_args = ["--format", "vc", "--key", "la-samr", "--out", str(credential_path)]
        ereg(cli_env, "export", str(disclosed_path), *export_args)
        checked = ereg(cli_env, "verify", str(credential_path), "--lang", "en", check=False)
        print("  " + "\n  ".join(checked.stdout.strip().splitlines()))
        print(f"  ereg verify exit status {checked.returncode}; the credential: {credential_path}")
        if checked.returncode != 0:
            raise SystemExit("the exported credential did not verify")
        vc_check = post_json(f"{base}/v1/verify", credential_path.read_bytes(), "application/vc+jwt")
        print(verdict_line("the same credential at the verifier", vc_check))

        say("Starting the city platform's relay (it sends department-signed steps; it holds no department key)")
        relay_port = free_port()
        relay_base = f"http://127.0.0.1:{relay_port}"
        relay_env = {
            **os.environ,
            "EREG_RPC_URL": stack.rpc_url,
            "EREG_CHAIN_ID": str(stack.chain_id),
            "EREG_REGISTRY_ADDRESS": deployment.address,
            "EREG_PROPERTY_REGISTRY_ADDRESS": prop.address,
            "EREG_DEPLOYMENTS_DIR": str(settings.deployments_dir),
            "EREG_QUEUE_PATH": str(run_dir / "relay-queue.sqlite"),
            "EREG_RELAYER_KEYSTORE": str(keystore.info("relayer").path),
            "EREG_RELAYER_PASSWORD": password,  # to the child's environment only
        }
        relay_log = (run_dir / "relay.log").open("wb")
        relay_process = subprocess.Popen(
            [sys.executable, "-m", "registry_api", "--port", str(relay_port), "--log-level", "warning"],
            cwd=REPO,
            env=relay_env,
            stdout=relay_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        services.append(relay_process)
        wait_healthy(relay_base, relay_process, name="the relay")
        print(f"  relay: {relay_base}   (API docs: {relay_base}/docs)")
        window = RelayClient(relay_base)

        def step(key: str, call: PropertyCall) -> StepAnswer:
            return relay_property_step(window, accounts[key], prop, call)

        say("Second-hand transfer at one window: TAX, HOUSING and NATRES approve in parallel")
        old_path = issued["property-certificate"][0]
        old_doc = parse_document(old_path.read_bytes())
        unit = certificate_unit(old_doc.data)
        if unit is None:  # the demo's certificate discloses both: a broken sample, not a user error
            raise SystemExit(f"{old_path} names no unit (unitNumber and unitSalt)")
        sellers = [
            (str(o["idNumber"]), new_salt(), int(str(o["share"]).rstrip("%")) * 100) for o in old_doc.data["owners"]
        ]
        seller_owners = [Owner(owner_commitment(identity, salt), share) for identity, salt, share in sellers]
        step("la-natres", PropertyCall.register_unit(unit, certificate_of(old_path), seller_owners))
        print(f"  unit 0x{unit.hex()[:16]}… registered with {old_path.name} and {len(sellers)} owners' commitments")

        new_record = sample_record("property-certificate")
        new_record["unitSalt"] = old_doc.data["unitSalt"]  # the unit's salt, unchanged: the same unit id
        new_record["certificateNumber"] = "沪（2026）浦东新区不动产权第0023456号"
        new_record["owners"] = [
            {"name": "王五", "idType": "resident-id", "idNumber": "310115198805050031", "share": "100%"}
        ]
        new_record["coOwnership"] = "单独所有"
        new_record["registrationDate"] = time.strftime("%Y-%m-%d", time.gmtime())
        new_path = issue_one(
            run_dir / "records" / "transfer",
            args.out / "property-transfer",
            "property-certificate",
            new_record,
            registry,
            TransactionSender(client, accounts["la-natres"]),
            store,
            base,
        )
        print(f"  new certificate {new_path.parent.name}/{new_path.name} issued by NATRES for the buyer")
        buyer = [Owner(owner_commitment("310115198805050031", new_salt()), 10_000)]
        answer = step("la-natres", PropertyCall.open_transfer(unit, certificate_of(new_path), buyer))
        case_id = int(next(e.args["caseId"] for e in answer.events if e.name == "TransferOpened"))
        transactions = 1
        print(f"  case {case_id} opened at the window (tx {answer.tx_hash[:18]}…, sent by the relay)")
        case = prop.transfer_case(case_id)
        for key, role in (("la-tax", Role.TAX), ("la-housing", Role.HOUSING), ("la-natres", Role.NATRES)):
            answer = step(key, PropertyCall.approve_transfer(case_id, case.round, role))
            transactions += 1
            finalized = any(e.name == "TransferFinalized" for e in answer.events)
            done = "; case finalized, old certificate superseded" if finalized else ""
            print(f"  {role.name:<8} approved, signed by its own key (tx {answer.tx_hash[:18]}…){done}")
        print(f"  open -> final in {transactions} transactions, the same day")

        old_verdict: dict[str, Any] = {}
        for _ in range(100):  # the verifier's index follows the chain within a second
            old_verdict = post_json(f"{base}/v1/verify", old_path.read_bytes())
            if old_verdict["verdict"] == "INVALID":
                break
            time.sleep(0.1)
        print(verdict_line("old property certificate", old_verdict))
        print(property_line(old_verdict))
        new_verdict = post_json(f"{base}/v1/verify", new_path.read_bytes())
        print(verdict_line("new property certificate", new_verdict))
        print(property_line(new_verdict))
        print(f"  chain of title: {base}/v1/properties/0x{unit.hex()}/history")

        if args.once:
            say("Done (--once): stopping the services")
            return 0
        say(f"Services are up: verifier {base}, relay {relay_base}, chain {stack.rpc_url}. Press Ctrl-C to stop.")
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for service in services:
            with_suppress_kill(service)
        stop_stack(run_dir)


@dataclass
class Draft:
    """A governor that only gathers calls: the demo shows, signs and runs them as one proposal."""

    calls: list[Call] = field(default_factory=list)

    def run(self, calls: Sequence[Call], *, kind: ProposalKind | None = None) -> Receipt | None:
        self.calls.extend(calls)
        return None


def run_proposal(
    client: ChainClient,
    council: CouncilClient,
    calls: Sequence[Call],
    members: Sequence[Any],
    titles: dict[str, str],
    submitter: TransactionSender,
    path: Path,
) -> None:
    """One proposal through the council, step by step: signed by three members (the proposal file
    they pass around), scheduled in the time lock, its delay waited out, executed."""
    kind = classify(calls, client)
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    proposal = new_proposal(calls, kind, now=now)
    sealed = ProposalFile(client.chain_id, council.address, proposal)
    why = "they add power: through the time lock" if kind is ProposalKind.SCHEDULED else "protective: at once"
    print(f"  {len(calls)} calls, kind {kind.name} ({why}); digest 0x{sealed.digest.hex()[:16]}…")
    names = list(titles)
    for index in SIGNERS:
        signer = sealed.add_signature(
            sign_proposal(members[index], proposal, chain_id=client.chain_id, council=council.address)
        )
        print(f"  signed by {titles[names[index]]} ({signer})")
    sealed.write(path)
    print(f"  proposal file with {len(sealed.signatures)} of {len(members)} signatures: {path.name}")
    receipt = council.execute(submitter, proposal, sealed.signature_bytes(council.members()))
    if kind is ProposalKind.IMMEDIATE:
        print(f"  executed at once (tx {receipt.tx_hash[:18]}…, {receipt.gas_used:,} gas)")
        return
    ready_at = council.ready_at(proposal)
    print(f"  scheduled (tx {receipt.tx_hash[:18]}…, {receipt.gas_used:,} gas); executable from block time "
          f"{time.strftime('%H:%M:%S', time.localtime(ready_at))}; {VETO_THRESHOLD} members could veto it meanwhile")
    # The time lock reads the newest block's time. A QBFT network seals a block every few
    # seconds; this local chain only when a transaction comes: have it seal one a second.
    rpc_url = str(client.settings.rpc_url).rstrip("/")
    print("  time lock, seconds left:", end="", flush=True)
    while (remaining := ready_at - int(client.w3.eth.get_block("latest")["timestamp"])) > 0:
        print(f" {remaining}", end="", flush=True)
        time.sleep(1)
        rpc(rpc_url, "evm_mine")
    print(" — delay over", flush=True)
    receipt = council.execute_scheduled(submitter, proposal)
    print(f"  executed by anyone after the delay (tx {receipt.tx_hash[:18]}…, {receipt.gas_used:,} gas): "
          f"all {len(calls)} calls carried out")


def certificate_of(path: Path) -> Certificate:
    """Where a wrapped document is anchored: its batch root, target hash and Merkle proof."""
    doc = parse_document(path.read_bytes())
    return Certificate(
        bytes.fromhex(doc.proof.merkle_root[2:]),
        bytes.fromhex(doc.proof.target_hash[2:]),
        tuple(bytes.fromhex(p[2:]) for p in doc.proof.proof),
    )


def issue_one(
    inputs: Path,
    out_dir: Path,
    doc_type: str,
    record: dict[str, Any],
    registry: RegistryClient,
    sender: TransactionSender,
    store: Any,
    verifier_url: str,
) -> Path:
    """Issue one document of ``record``; return its wrapped file."""
    inputs.mkdir(parents=True, exist_ok=True)
    path = inputs / f"{doc_type}-01.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    issue_settings = IssueSettings(
        doc_type=doc_type,
        out_dir=out_dir,
        verifier_url=verifier_url,
        valid_from=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60)),
        batch_size=1,
    )
    Issuer(issue_settings, registry=registry, sender=sender, store=store).run([path])
    return out_dir / f"{path.stem}.ereg.json"


def ereg(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The ``ereg`` command line, as a department window runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "issuer.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise SystemExit(f"ereg {args[0]} failed: {result.stderr.strip()}")
    return result


def with_suppress_kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    socket.setdefaulttimeout(60)
    sys.exit(main())
