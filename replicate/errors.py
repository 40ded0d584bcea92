"""Exceptions for user errors: one line, naming the file or value and the fix.

A command-line front end catches :class:`UserError` and prints
``error: <message>`` with exit code 2 instead of a traceback.
"""


class UserError(Exception):
    """Base class of every error caused by the user's input or files."""


class InputError(UserError, ValueError):
    """Bad images given to :meth:`replicate.SSD.predict` (also a ValueError)."""


class WeightsError(UserError):
    """A weight file does not fit the model: missing/unexpected/misshapen keys."""


class PretrainedModelError(UserError):
    """A named pretrained weight file is neither cached nor downloadable."""
