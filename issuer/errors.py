"""Errors of the signing CLI, below the project's root; the CLI prints each as one line.

Every error says what went wrong in English (its message) and in Chinese: either in its own
words (``zh=``, or ``Bilingual``'s two halves), or the class's ``message_zh`` names the kind
of failure. ``exit_code`` is the CLI's exit status for it (2: the arguments were wrong).
"""

from __future__ import annotations

from common.errors import EregError


class IssuerError(EregError):
    """Root of the CLI's own errors."""

    code = "ISSUER_ERROR"
    message_zh = "操作失败"
    exit_code = 1

    def __init__(
        self, message: str = "", message_zh: str | None = None, *, zh: str | None = None, code: str | None = None
    ) -> None:
        # ``zh=`` is the CLI's older spelling of ``message_zh``; an empty one keeps the class's words
        super().__init__(message, message_zh or zh or None, code=code)


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


class FileError(IssuerError):
    """A file could not be read or written (an ``OSError`` at the CLI's edge)."""

    code = "FILE_ERROR"
    message_zh = "文件操作失败"

    @classmethod
    def of(cls, exc: OSError) -> FileError:
        """The OS's words and the file's name, without the errno clutter of ``str(exc)``."""
        where = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        return cls(where)


class Bilingual(IssuerError):
    """An error given in both languages by whoever raises it: ``message`` and ``message_zh``."""

    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(english, chinese)
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
