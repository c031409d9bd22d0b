"""Errors a user can cause, each mapped to an exit code and printed as one line (never a traceback)."""


class HotelseedError(Exception):
    exit_code = 1


class UsageError(HotelseedError):
    """Bad flags, values or profile: the user's input is wrong. Nothing was touched."""

    exit_code = 2


class DatabaseStateError(HotelseedError):
    """The target database is unreachable or not in a state we can work with. Nothing was touched."""

    exit_code = 2


class VerificationFailed(HotelseedError):
    exit_code = 1

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report
