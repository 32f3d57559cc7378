"""One exception tree: every error the project raises on purpose derives from ``EregError``.

The edges (the CLI, the HTTP handlers) translate that root only, so an error class outside
the tree is one a user meets as a stack trace or a bare 500. The walk below imports every
module of the packages and looks at every exception class defined there; a new error that
forgets the root, its code or its Chinese words fails here, not in front of a user.
"""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from chain.errors import (
    ChainError,
    ChainUnavailable,
    ContractRevert,
    RegistryNotFound,
    RpcError,
    TransactionRejected,
    TransactionTimeout,
    WrongChain,
)
from common.errors import EregError
from documents.errors import DisclosureError, DocumentError, MalformedDocument, SchemaViolation, UnknownDocumentType
from httpkit.errors import HttpError, install_error_handlers
from issuer.errors import Bilingual, CouncilSetupError, IssuerError, KeyNotFound, UsageError
from registry_api.errors import RelayError
from storage.errors import BlobNotFound, CidMismatch, InvalidCid, StorageError, StorageUnavailable

#: Every package whose errors a user can meet (devstack and scripts are tools of the developers).
PACKAGES = ("chain", "documents", "storage", "issuer", "registry_api", "verifier", "httpkit", "network")

#: ``python -m <package>`` entry points: importing them starts a server.
ENTRY_POINTS = {"__main__"}

CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def project_modules() -> Iterator[ModuleType]:
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if info.name.rsplit(".", 1)[-1] not in ENTRY_POINTS:
                yield importlib.import_module(info.name)


def project_exceptions() -> dict[str, type[BaseException]]:
    """Every public exception class defined in the packages, by dotted name.

    Private classes (``_Invalid``, ``_ChainMoved``) are control-flow signals caught inside
    their own module; they never reach an edge, so they need no code or words.
    """
    found: dict[str, type[BaseException]] = {}
    for module in project_modules():
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[f"{module.__name__}.{obj.__qualname__}"] = obj
    return found


@pytest.fixture(scope="module")
def exceptions() -> dict[str, type[BaseException]]:
    return project_exceptions()


def test_the_walk_sees_every_tree(exceptions: dict[str, type[BaseException]]) -> None:
    for name in (
        "chain.errors.ChainUnavailable",
        "chain.compiler.CompileError",
        "documents.errors.SchemaViolation",
        "storage.errors.CidMismatch",
        "issuer.errors.ProposalTampered",
        "issuer.relay_client.RelayRefused",
        "registry_api.errors.RelayError",
        "registry_api.queue.QueueConflict",
        "httpkit.errors.HttpError",
    ):
        assert name in exceptions, sorted(exceptions)


def test_every_project_error_derives_from_the_root(exceptions: dict[str, type[BaseException]]) -> None:
    outside = sorted(name for name, cls in exceptions.items() if not issubclass(cls, EregError))
    assert outside == []


def test_every_error_has_a_code_chinese_words_and_a_status(exceptions: dict[str, type[BaseException]]) -> None:
    wrong = []
    for name, cls in exceptions.items():
        if not issubclass(cls, EregError):
            continue  # reported by the test above
        if not (isinstance(cls.code, str) and CODE.match(cls.code)):
            wrong.append(f"{name}: code {cls.code!r}")
        if not (isinstance(cls.message_zh, str) and CJK.search(cls.message_zh)):
            wrong.append(f"{name}: message_zh {cls.message_zh!r}")
        if not 400 <= cls.http_status <= 599:
            wrong.append(f"{name}: http_status {cls.http_status}")
    assert wrong == []


def test_each_tree_hangs_below_the_root() -> None:
    for root in (ChainError, DocumentError, StorageError, IssuerError, RelayError, HttpError):
        assert issubclass(root, EregError), root
    assert issubclass(RelayError, HttpError)


# ---------------------------------------------------------------- statuses at an HTTP edge
@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ChainUnavailable("the node at http://n is unreachable"), 503, "CHAIN_UNAVAILABLE"),
        (WrongChain(1337, 1), 503, "WRONG_CHAIN"),
        (RegistryNotFound("no registry code at 0x00"), 503, "REGISTRY_NOT_FOUND"),
        (TransactionTimeout("0xab", 30), 504, "TRANSACTION_TIMEOUT"),
        (RpcError("nonce too low", -32000), 502, "RPC_ERROR"),
        (TransactionRejected("sender not allowed", -32000), 502, "TRANSACTION_REJECTED"),
        (ContractRevert("IssuerRegistryAlreadyAnchored", {"root": b"\x01"}), 409, "CONTRACT_REVERT"),
        (ChainError("contract artifact x is unreadable"), 502, "CHAIN_ERROR"),
        (StorageUnavailable("ipfs", "connection refused"), 503, "IPFS_UNAVAILABLE"),
        (BlobNotFound("bafyx"), 404, "BLOB_NOT_FOUND"),
        (CidMismatch("bafya", "bafyb", "ipfs"), 502, "CID_MISMATCH"),
        (InvalidCid("x", "not base32"), 400, "INVALID_CID"),
        (MalformedDocument("/data", "missing", "缺失"), 422, "MALFORMED"),
        (SchemaViolation("business-license", [("/data/name", "required")]), 422, "SCHEMA_VIOLATION"),
        (UnknownDocumentType("no-such-type"), 422, "UNKNOWN_DOCUMENT_TYPE"),
        (RelayError(409, "NONCE_USED", "used", "已使用"), 409, "NONCE_USED"),
        (EregError("unexpected"), 500, "EREG_ERROR"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_an_error_reaching_the_http_edge_answers_its_status(error: EregError, status: int, code: str) -> None:
    """The kit's one handler answers every tree's error with its status, code and both languages."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    answer = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert answer.status_code == status
    body = answer.json()["error"]
    assert body["code"] == code
    assert body["message"] == error.message and body["message"]
    assert CJK.search(body["message_zh"]), body


# ------------------------------------------------------------ the old constructors still work
def test_document_errors_keep_their_constructors() -> None:
    plain = DocumentError("bad", "坏", code="SOMETHING")
    assert (plain.code, plain.message, plain.message_zh, str(plain)) == ("SOMETHING", "bad", "坏", "bad")
    assert DocumentError("bad", "坏").code == "DOCUMENT_ERROR" == DocumentError.default_code
    malformed = MalformedDocument("/a", "not a string", "不是字符串")
    assert (malformed.code, malformed.message, malformed.message_zh) == (
        "MALFORMED",
        "/a: not a string",
        "/a：不是字符串",
    )
    assert MalformedDocument.code == MalformedDocument.default_code == "MALFORMED"
    disclosure = DisclosureError("no field", "无此字段", code="NOT_A_FIELD", pointer="/x")
    assert (disclosure.code, disclosure.pointer) == ("NOT_A_FIELD", "/x")


def test_issuer_errors_keep_zh_and_exit_codes() -> None:
    error = KeyNotFound("no key named 'k'")
    assert (error.message, error.message_zh, error.exit_code) == ("no key named 'k'", "找不到密钥", 1)
    own = IssuerError("x", zh="自己的话")
    assert own.message_zh == "自己的话" and "message_zh" in vars(own)
    assert UsageError("bad").exit_code == 2 and CouncilSetupError("a", "乙").exit_code == 2
    both = Bilingual("not signed", "未签署")
    assert (both.message, both.message_zh, both.english, both.chinese) == (
        "not signed",
        "未签署",
        "not signed",
        "未签署",
    )


def test_relay_error_keeps_status_code_and_at() -> None:
    error = RelayError(401, "BAD_SIGNATURE", "the signature cannot be verified", "签名无法验证")
    item = error.at(3)
    assert isinstance(item, RelayError) and isinstance(item, HttpError)
    assert (item.status_code, item.http_status, item.code) == (401, 401, "BAD_SIGNATURE")
    assert (item.message, item.message_zh) == ("item 3: the signature cannot be verified", "第 3 项：签名无法验证")


def test_a_contract_revert_names_the_contract_in_both_languages() -> None:
    registry = ContractRevert("IssuerRegistryUnauthorized", {"who": b"\xab"})
    assert str(registry) == "IssuerRegistryUnauthorized(who=0xab)"  # what the relay records
    assert registry.describe("en") == "refused by the registry: IssuerRegistryUnauthorized(who=0xab)"
    assert registry.describe("zh") == "登记合约拒绝了该操作：IssuerRegistryUnauthorized(who=0xab)"
    assert ContractRevert("DocumentRegistryUnknownRoot", {}).describe("en").startswith("refused by the registry: ")
    assert ContractRevert("PropertyRegistryUnitSeized", {}).describe("zh").startswith("不动产登记合约拒绝了该操作")
    assert ContractRevert("Panic", {"code": 1}).describe("en") == "refused by the contract: Panic(code=1)"
    council = ContractRevert("GovernanceCouncilNotMember", {})
    assert council.describe("en").startswith("refused by the council: ")
    assert council.describe("zh").startswith("治理委员会合约拒绝了该操作")


# ------------------------------------------------------ errors cross a process boundary whole
@pytest.mark.parametrize(
    "error",
    [
        MalformedDocument("/0/a", "not a string", "不是字符串"),
        SchemaViolation("business-license", [("/0/creditCode", "missing"), ("/0/name", "too long")]),
        DisclosureError("no field", "无此字段", code="NOT_A_FIELD", pointer="/x"),
        IssuerError("x", zh="自己的话"),
        KeyNotFound("no key named 'k'"),
        Bilingual("not signed", "未签署"),
        RelayError(401, "BAD_SIGNATURE", "the signature cannot be verified", "签名无法验证").at(3),
        CidMismatch("bafkexpected", "bafkgot", "http://127.0.0.1:5001"),
        EregError("plain"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_error_survives_pickling_whole(error: EregError) -> None:
    # the issuer seals batches in worker processes: what a worker raises must reach the CLI as it
    # was raised (its class, both languages, its code and its own attributes), not as a pickling failure
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - the bytes this test just made
    assert type(back) is type(error)
    assert (str(back), back.message, back.message_zh, back.code) == (
        str(error),
        error.message,
        error.message_zh,
        error.code,
    )
    assert vars(back) == vars(error) and back.args == error.args
