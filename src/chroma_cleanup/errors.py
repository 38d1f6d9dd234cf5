"""Errors the user can act on. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # something failed or was refused while planning or applying
EXIT_USAGE = 2  # bad usage or configuration: nothing was changed


class CleanupError(Exception):
    """An expected failure with a one-line message and a hint for the user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(CleanupError):
    """A name or setting is missing or malformed."""


class AwsUnavailable(CleanupError):
    """The endpoint, the credentials or a resource cannot be reached."""


class Refused(CleanupError):
    """A safety rule stopped the run before anything changed."""

    exit_code = EXIT_FAILED


class NotConfirmed(CleanupError):
    """No confirmation could be had, so nothing was changed."""
