"""Errors of the signing CLI; the CLI prints each as one line and exits non-zero.

Every error says what went wrong in English (its message) and in Chinese: either the message
itself carries both (``Bilingual``), or the class's ``message_zh`` names the kind of failure.
"""

from __future__ import annotations


class IssuerError(Exception):
    """Root of the CLI's own errors."""

    code = "ISSUER_ERROR"
    message_zh = "操作失败"
    exit_code = 1

    def __init__(self, message: str = "", *, zh: str | None = None) -> None:
        super().__init__(message)
        if zh:
            self.message_zh = zh  # this error's own words, instead of the class's


class KeyNotFound(IssuerError):
    code = "KEY_NOT_FOUND"
    message_zh = "找不到密钥"


class KeyExists(IssuerError):
    code = "KEY_EXISTS"
    message_zh = "密钥已存在"


class WrongPassword(IssuerError):
    code = "WRONG_PASSWORD"
    message_zh = "密码错误或不符合要求"


class CorruptKeystore(IssuerError):
    code = "CORRUPT_KEYSTORE"
    message_zh = "密钥文件损坏或无法读取"


class UsageError(IssuerError):
    """Bad arguments that typer could not catch by itself."""

    code = "USAGE"
    message_zh = "参数有误"
    exit_code = 2


class InputError(IssuerError):
    """An input file is missing, unreadable or not what the command expects."""

    code = "INPUT"
    message_zh = "输入文件有误"


class NotAuthorized(IssuerError):
    """The key may not do what was asked (checked before sending anything)."""

    code = "NOT_AUTHORIZED"
    message_zh = "该密钥无权执行此操作"


class Bilingual(IssuerError):
    """An error whose message is given in both languages: ``english / 中文``."""

    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(f"{english} / {chinese}", zh=chinese)
        self.english = english
        self.chinese = chinese


class GovernanceError(Bilingual):
    """A governance step refused before anything is sent (council, proposal file, approvals)."""

    code = "GOVERNANCE"


class ProposalTampered(GovernanceError):
    """The proposal file does not hold together: edited after sealing, or a forged signature."""

    code = "PROPOSAL_TAMPERED"


class ProposalSealed(GovernanceError):
    code = "PROPOSAL_SEALED"


class ProposalDraft(GovernanceError):
    code = "PROPOSAL_NOT_SEALED"


class NotEnoughApprovals(GovernanceError):
    code = "NOT_ENOUGH_APPROVALS"


class NotReady(GovernanceError):
    code = "NOT_READY"


class CouncilSetupError(GovernanceError):
    """A council the CLI will not deploy (or the contract would refuse)."""

    code = "COUNCIL_CONFIGURATION"
    exit_code = 2
