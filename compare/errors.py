"""User-facing errors of the comparison harness.

A :class:`UserError` is a problem the user can fix (a missing file, a bad
argument, an unreadable image). Its message is one line naming the file and the
fix; the CLI prints ``error: <message>`` on stderr and exits with status 2,
without a traceback. Anything else is a bug and keeps its traceback.

It derives from :class:`replicate.errors.UserError`, so one ``except`` catches
the harness's own errors and those of the model library it drives (missing
pretrained weights, a weight file that does not fit).
"""
from replicate.errors import UserError as ReplicateUserError


class UserError(ReplicateUserError):
    """A one-line, actionable problem caused by the user's input or setup."""

    def __init__(self, message):
        # One line: the CLI prints it after ``error: `` and nothing else.
        super().__init__(' '.join(str(message).split('\n')))


def is_user_error(exc):
    """Whether ``exc`` is a user error of the harness or of ``replicate``."""
    return isinstance(exc, ReplicateUserError)


#: Exit status of the CLI for a :class:`UserError` (argparse uses 2 as well).
EXIT_USER_ERROR = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
