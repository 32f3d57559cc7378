"""Errors of the signing CLI; the CLI prints each as one line and exits non-zero."""

from __future__ import annotations


class IssuerError(Exception):
    """Root of the CLI's own errors."""

    code = "ISSUER_ERROR"
    exit_code = 1


class KeyNotFound(IssuerError):
    code = "KEY_NOT_FOUND"


class KeyExists(IssuerError):
    code = "KEY_EXISTS"


class WrongPassword(IssuerError):
    code = "WRONG_PASSWORD"


class CorruptKeystore(IssuerError):
    code = "CORRUPT_KEYSTORE"


class UsageError(IssuerError):
    """Bad arguments that typer could not catch by itself."""

    code = "USAGE"
    exit_code = 2


class InputError(IssuerError):
    """An input file is missing, unreadable or not what the command expects."""

    code = "INPUT"


class NotAuthorized(IssuerError):
    """The key may not do what was asked (checked before sending anything)."""

    code = "NOT_AUTHORIZED"
