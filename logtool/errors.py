"""The one error hierarchy: every failure a user can act on is a LogtoolError with an exit code."""

from __future__ import annotations


class LogtoolError(Exception):
    """Base of every error logtool reports to a user; the CLI prints `Error: <message>`."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class BadInputError(LogtoolError):
    """The user gave something unusable: a bad option value, path, id or query (exit 2)."""


class ConfigError(BadInputError):
    """A configuration file or environment variable is invalid; names the file and key."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None,
                 hint: str | None = None) -> None:
        where = ", ".join(p for p in (source, f"key {key!r}" if key else None) if p)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.source = source
        self.key = key


class FormatVersionError(BadInputError):
    """The tree was written by a newer format version than this logtool reads."""


class NotFoundError(LogtoolError):
    """The query was fine but nothing matched: an unknown id, an empty tree (exit 1)."""

    exit_code = 1
