"""Exceptions the core raises. Each carries a message for users and a hint on what to do."""


class UdwError(Exception):
    """Base error: `str(err)` is the message; `hint` says what to do about it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  -> {self.hint}" if self.hint else base


class BadInput(UdwError):
    """A path, file or setting given by the user cannot be used."""


class OutsideRoot(BadInput):
    """A user path leads outside the folders it may name (`..`, another absolute path, a symlink)."""


class NotFound(BadInput):
    """A named item or file does not exist (any more)."""


class ModelNotFound(UdwError):
    """A model file is not on this machine (and downloads are off or failed)."""


class Cancelled(UdwError):
    """The host asked to stop; finished work is kept and a re-run resumes."""

    def __init__(self, message: str = "cancelled by the user", hint: str = "run again to resume"):
        super().__init__(message, hint)
