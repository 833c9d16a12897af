"""User-facing errors: a French sentence and an exit code, never a traceback."""

from pipelines.secrets import redact


class VigieError(Exception):
    """An error the user can act on. `message` is French, shown as is."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        # Whatever built the message, a configured secret never leaves in it.
        message = redact(message)
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(VigieError):
    """Bad usage or configuration (exit 2)."""

    exit_code = 2


class SourceError(VigieError):
    """A source could not be read; the warehouse keeps its last good data (exit 1)."""


class LockBusy(VigieError):
    """Another Vigie process holds the warehouse lock (exit 1)."""
