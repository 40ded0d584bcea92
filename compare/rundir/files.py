"""Reading and writing one file of a run folder: one-line errors naming the
file and the way out; every write goes through here, never through a link.

A file of the run folder is written only as a regular file at its own path:
a symbolic link (or a named pipe, a folder) where the run would write is
refused in one line naming it, and its target is never opened. Whole files
are written atomically: a temporary ``<name>.part`` created afresh
(``O_EXCL``, ``O_NOFOLLOW``), then renamed over the name (which replaces a
hard link's entry instead of writing into the file it shares). Appending
(:class:`AppendFile`) opens with ``O_NOFOLLOW`` and checks, before each
write, that the file is still the one it has been appending to, exactly as
long as it left it.
"""
import json
import os
import stat

from compare.errors import UserError, printable_path
from replicate.errors import one_line

#: Flags of every open for writing: never through a link, never blocking on a pipe.
_NOFOLLOW = os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0) | os.O_NONBLOCK


def read_file(path):
    """The bytes of a file of the run folder; UserError (naming it and the way
    out) when it is not a readable regular file."""
    try:
        if not os.path.isfile(path):
            raise UserError('{} is not a file; remove it (or rerun with --force)'.format(path))
        with open(path, 'rb') as f:
            return f.read()
    except OSError as exc:
        raise UserError('cannot read {}: {}; check its permissions or remove it'.format(
            path, exc.strerror)) from None


def text_lines(path):
    """The lines of a CSV file of the run folder, as text (UserError if not UTF-8)."""
    try:
        return read_file(path).decode('utf-8').splitlines()
    except UnicodeDecodeError:
        raise UserError('{} is not UTF-8 text; rerun compare/run.py (it rewrites the file) or '
                        'delete it'.format(path)) from None


def kind(mode):
    """What an lstat ``st_mode`` is, in words (``a symbolic link``...)."""
    return ('a symbolic link' if stat.S_ISLNK(mode) else 'a named pipe' if stat.S_ISFIFO(mode)
            else 'a folder' if stat.S_ISDIR(mode) else 'a regular file' if stat.S_ISREG(mode)
            else 'a special file')


def not_regular(path, mode):
    """The refusal to write ``path``, whose lstat ``mode`` is not a regular
    file: a UserError naming it and the fix."""
    return UserError('{} is {}: a run folder\'s files are written only as regular files at '
                     'their own path (never through a link, never into a pipe); remove it '
                     '(that removes only the {}) or pass another --out'.format(
                         printable_path(path), kind(mode),
                         'link' if stat.S_ISLNK(mode) else 'entry'))


def check_writable(path):
    """Raise :func:`not_regular`'s UserError unless ``path`` is missing or a
    regular file (a link is never followed)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise not_regular(path, mode)


def check_folder(path):
    """UserError unless ``path`` (``raw/``, ``figures/``...) is missing or a
    real folder, not a link to one."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise UserError('{} is {}: a run folder\'s folders are written only as real folders, '
                        'never through a link; remove it (that removes only the {}) or pass '
                        'another --out'.format(printable_path(path), kind(mode),
                                               'link' if stat.S_ISLNK(mode) else 'entry'))


def make_folder(path):
    """``os.makedirs(path)`` unless it exists; UserError if it is a link or
    not a folder (:func:`check_folder`)."""
    check_folder(path)
    os.makedirs(path, exist_ok=True)


def open_new(path):
    """A file descriptor of ``path`` created afresh for writing (``O_EXCL``:
    never an existing file, never through a link)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
    except FileExistsError:
        check_writable(path)
        raise


def write_bytes(path, data, sync=False):
    """``path`` holding ``data`` (bytes), written atomically (``<path>.part``
    created afresh, then renamed); ``sync``: fsync'ed before the rename.

    Raises:
        UserError: ``path`` or ``<path>.part`` is a link or not a regular
            file (it is left as it is).
    """
    check_writable(path)
    partial = path + '.part'
    check_writable(partial)
    remove(partial)  # left by a killed run
    fd = open_new(partial)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        _remove_quietly(partial)
        raise
    os.replace(partial, path)


def write_text(path, text, sync=False):
    """:func:`write_bytes` of ``text`` as UTF-8 (newlines as given)."""
    write_bytes(path, text.encode('utf-8'), sync=sync)


def write_json(path, data):
    """``path`` holding ``data`` as JSON, written atomically (a temporary file
    renamed)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + '\n')


def remove(path):
    """Delete the entry ``path`` if present (a link is removed, its target
    left alone)."""
    if os.path.lexists(path):
        os.remove(path)


def truncate(path, size):
    """Cut the regular file ``path`` to ``size`` bytes (never through a link)."""
    try:
        fd = os.open(path, os.O_WRONLY | _NOFOLLOW)
    except OSError:
        check_writable(path)
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode)
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


class AppendFile:
    """Appends to the regular file ``path`` (created if missing): one
    ``write`` per call, fsync'ed.

    Before each write it checks that ``path`` is still the file it opened,
    holding exactly what it held then plus what was appended since: a file
    truncated, deleted, replaced or written by something else meanwhile
    raises UserError (ending with ``fix``), and nothing more is appended.
    """

    def __init__(self, path, fix='rerun the same command'):
        self.path, self.fix, self.fd = path, fix, None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o666)
        except OSError:
            check_writable(path)
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise not_regular(path, info.st_mode)
        self.fd, self.size, self.inode = fd, info.st_size, (info.st_dev, info.st_ino)

    def check(self):
        """UserError when the file is not as this writer left it."""
        info = os.fstat(self.fd)
        try:
            now = os.lstat(self.path)
            here = (now.st_dev, now.st_ino) == self.inode
        except FileNotFoundError:
            here = False
        if info.st_nlink == 0 or not here:
            why = 'was deleted or replaced'
        elif info.st_size != self.size:
            why = 'holds {} bytes, not the {} this run left in it (truncated, or written by ' \
                  'something else)'.format(info.st_size, self.size)
        else:
            return
        raise UserError('{} {} while the run went on; {}'.format(
            printable_path(self.path), why, self.fix))

    def write(self, data):
        """Append ``data`` (bytes), after :meth:`check`."""
        self.check()
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        os.fsync(self.fd)
        self.size += len(data)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def load_json(path, fix):
    """The JSON of a file of the run folder; UserError naming it and ``fix``."""
    try:
        return json.loads(read_file(path).decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise UserError('{} is not valid JSON ({}: {}); {}'.format(
            path, type(exc).__name__, one_line(exc)[:200], fix)) from None
