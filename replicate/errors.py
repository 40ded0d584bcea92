"""Exceptions for user errors: one line, naming the file or value and the fix.

A command-line front end catches :class:`UserError` and prints
``error: <message>`` with exit code 2 instead of a traceback. It is the one
such class of the suite: the comparison harness raises it too
(:mod:`compare.errors` adds its exit statuses), so one ``except`` catches the
harness's errors and those of the model library it drives.
:func:`one_line` puts any message, or an exception's text, on one line.
"""


def one_line(exc_or_text):
    """``str(exc_or_text)`` on one line: every run of whitespace (newlines
    included) becomes one space, none is left at either end."""
    return ' '.join(str(exc_or_text).split())


class UserError(Exception):
    """Base class of every error caused by the user's input or files.

    Its message is one line: a newline in it becomes a space (a front end
    prints it after ``error: `` and nothing else).
    """

    def __init__(self, *args):
        super().__init__(*(' '.join(str(arg).split('\n')) for arg in args))


class InputError(UserError, ValueError):
    """Bad images given to :meth:`replicate.SSD.predict` (also a ValueError)."""


class WeightsError(UserError):
    """A weight file does not fit the model: missing/unexpected/misshapen keys."""


class PretrainedModelError(UserError):
    """A named pretrained weight file is neither cached nor downloadable."""
