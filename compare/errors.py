"""User-facing errors of the comparison harness, and the exit statuses.

A user error is a problem the user can fix (a missing file, a bad argument, an
unreadable image): :class:`replicate.errors.UserError`, the suite's one such
class, re-exported here beside the exit statuses. Its message is one line
naming the file and the fix; the CLI prints ``error: <message>`` on stderr and
exits with status 2, without a traceback. The model library raises the same
class (missing pretrained weights, a weight file that does not fit), so one
``except`` catches both. An ``OSError`` that reaches a command (a folder that
is read-only, a disk that is full, a path that is a file) is the same kind of
problem: :func:`describe_os_error` gives its one line. Anything else is a bug
and keeps its traceback.
"""
from replicate.errors import UserError, one_line


def is_user_error(exc):
    """Whether ``exc`` is a user error (of the harness or of ``replicate``)."""
    return isinstance(exc, UserError)


def describe_os_error(exc):
    """One line for an ``OSError`` reaching a command: what failed, on which
    path, and the usual fix."""
    where = ' -> '.join(printable_path(name) for name in (exc.filename, exc.filename2)
                        if name is not None)
    reason = exc.strerror or one_line(exc) or type(exc).__name__
    return '{}{} ({}); check that the path exists, is of the right kind (file or folder), is ' \
        'writable, and that the disk has space'.format(where + ': ' if where else '', reason,
                                                      type(exc).__name__)


def printable_path(path):
    """A path as text that can be printed and written (undecodable bytes escaped)."""
    if isinstance(path, bytes):
        return path.decode('utf-8', 'backslashreplace')
    path = str(path)
    if is_text(path):
        return path
    try:  # a name from the file system holds undecodable bytes as surrogates (PEP 383)
        return path.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')
    except UnicodeEncodeError:
        return path.encode('utf-8', 'backslashreplace').decode('utf-8')


def is_text(name):
    """Whether ``name`` (a str from the file system) is valid UTF-8 text:
    without the lone surrogates that stand for undecodable bytes."""
    try:
        name.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


#: Exit status: everything asked was done.
EXIT_OK = 0
#: Exit status of the CLI for a :class:`UserError` (argparse uses 2 as well).
EXIT_USER_ERROR = 2
#: Exit status of a run that ended but did not do everything asked: a
#: requested detector failed to load, failed on an image, or has no result on
#: some readable image; or the images asked for could not be read. What was
#: done is saved (the run folder says what), and "incomplete:" is printed
#: instead of "done:".
EXIT_INCOMPLETE = 3
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
