"""The CLI's one edge: every project error becomes one line, in English, Chinese or both.

``EREG_LANG`` (or the global ``--lang``) picks the language: ``en`` for the operators'
scripts, ``zh`` for a registry window, ``both`` (the default) on one line for everyone else.
The line always names the error's code so that a clerk can read it out to support.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from chain.errors import ChainUnavailable, ContractRevert
from common.errors import EregError
from devstack.process import free_port
from documents.errors import MalformedDocument
from issuer import cli as cli_module
from issuer.cli import EregGroup, app
from issuer.errors import Bilingual, CouncilSetupError, KeyNotFound, UsageError
from registry_api.errors import RelayError
from storage.errors import StorageUnavailable
from tests.issuer.conftest import one_line_error

CJK = re.compile(r"[\u4e00-\u9fff]")
ROOT = "0x" + "11" * 32


def node_down(tmp_path: Path, *extra: str, lang: str | None = None) -> Result:
    """``ereg status`` against a port nobody listens on: a ChainUnavailable from the chain package."""
    env = {"EREG_HOME": str(tmp_path), "EREG_RPC_URL": f"http://127.0.0.1:{free_port()}", "EREG_CHAIN_ID": "1337"}
    env["EREG_LANG"] = lang  # type: ignore[assignment]  # None unsets it
    return CliRunner().invoke(app, [*extra, "status", ROOT, "--department", "LA-SAMR"], env=env)


def test_chain_error_in_chinese_only(tmp_path: Path) -> None:
    result = node_down(tmp_path, lang="zh")
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert line.startswith("ereg: 错误 [CHAIN_UNAVAILABLE]：无法连接区块链节点（the node at http://127.0.0.1:"), line


def test_chain_error_in_english_only(tmp_path: Path) -> None:
    result = node_down(tmp_path, lang="en")
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert line.startswith("ereg: error [CHAIN_UNAVAILABLE]: the node at http://127.0.0.1:"), line
    assert not CJK.search(line), line


def test_both_languages_by_default(tmp_path: Path) -> None:
    result = node_down(tmp_path)
    line = one_line_error(result.output)
    assert line.startswith("ereg: error [CHAIN_UNAVAILABLE]: the node at "), line
    assert line.endswith(" / 无法连接区块链节点"), line


def test_the_lang_option_wins_over_the_environment(tmp_path: Path) -> None:
    result = node_down(tmp_path, "--lang", "zh", lang="en")
    assert one_line_error(result.output).startswith("ereg: 错误 [CHAIN_UNAVAILABLE]："), result.output


def test_an_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    result = node_down(tmp_path, lang="fr")
    assert result.exit_code == 2
    assert "EREG_LANG" in result.output and "Traceback" not in result.output


# ----------------------------------------------------- every tree, through the same edge
def app_raising(error: BaseException) -> typer.Typer:
    """The CLI's own group and global options, with one command that raises ``error``."""
    mini = typer.Typer(cls=EregGroup, add_completion=False, pretty_exceptions_enable=False)
    mini.callback()(cli_module.root)

    @mini.command()
    def boom() -> None:
        raise error

    @mini.command()
    def calm() -> None:
        """A second command, so that the group stays a group."""

    return mini


def run(error: BaseException, lang: str) -> Result:
    return CliRunner().invoke(app_raising(error), ["--lang", lang, "boom"], env={"EREG_LANG": None})


ERRORS = [
    ChainUnavailable("the node at http://n is unreachable"),
    StorageUnavailable("ipfs", "connection refused"),
    MalformedDocument("/data", "missing field", "缺少字段"),
    RelayError(409, "NONCE_USED", "nonce 3 is used already", "该签名序号已被使用"),
    KeyNotFound("no key named 'k'"),
    EregError("something the project raised on purpose"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_tree_in_every_language(error: EregError) -> None:
    own_zh = "message_zh" in vars(error)
    zh = error.message_zh if own_zh else f"{error.message_zh}（{error.message}）"
    expected = {
        "en": f"ereg: error [{error.code}]: {error.message}",
        "zh": f"ereg: 错误 [{error.code}]：{zh}",
        "both": f"ereg: error [{error.code}]: {error.message} / {error.message_zh}",
    }
    for lang, line in expected.items():
        result = run(error, lang)
        assert result.exit_code == 1, (lang, result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert one_line_error(result.output) == line


def test_a_bilingual_error_is_not_said_twice() -> None:
    error = Bilingual("not signed", "未签署")
    assert one_line_error(run(error, "both").output) == "ereg: error [ISSUER_ERROR]: not signed / 未签署"
    assert one_line_error(run(error, "zh").output) == "ereg: 错误 [ISSUER_ERROR]：未签署"


def test_a_contract_revert_says_which_contract() -> None:
    error = ContractRevert("GovernanceCouncilNotMember", {"who": b"\x01"})
    assert one_line_error(run(error, "both").output) == (
        "ereg: error [CONTRACT_REVERT]: refused by the council: GovernanceCouncilNotMember(who=0x01)"
        " / 治理委员会合约拒绝了该操作：GovernanceCouncilNotMember(who=0x01)"
    )


def test_exit_codes_come_from_the_error() -> None:
    assert run(UsageError("bad arguments"), "en").exit_code == 2
    assert run(CouncilSetupError("one person", "一人说了算"), "en").exit_code == 2
    assert run(ChainUnavailable("down"), "en").exit_code == 1


def test_a_file_error_is_one_line() -> None:
    error = FileNotFoundError(2, "No such file or directory", "/nowhere/x.json")
    assert one_line_error(run(error, "both").output) == (
        "ereg: error [FILE_ERROR]: No such file or directory: /nowhere/x.json / 文件操作失败"
    )
    assert one_line_error(run(error, "zh").output) == (
        "ereg: 错误 [FILE_ERROR]：文件操作失败（No such file or directory: /nowhere/x.json）"
    )


def test_a_bug_is_one_line_without_its_text() -> None:
    """Not a project error: the type is named, its text (which may hold anything) is not."""
    result = run(RuntimeError("secret-ish detail"), "both")
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert line.startswith("ereg: error [INTERNAL]: ") and "RuntimeError" in line and CJK.search(line), line
    assert "secret-ish" not in line


def test_the_frameworks_own_exits_pass_through() -> None:
    """A command's deliberate exit status and typer's usage errors are not turned into INTERNAL."""
    exited = run(typer.Exit(3), "both")
    assert (exited.exit_code, exited.output) == (3, "")
    usage = run(typer.BadParameter("no such unit"), "both")
    assert usage.exit_code == 2 and "no such unit" in usage.output and "INTERNAL" not in usage.output
