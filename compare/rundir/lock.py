"""One run at a time per run folder: the lock file ``<run folder>/lock``.

``compare/run.py`` and ``python -m compare.score`` hold it while they change
the folder. It is an advisory ``flock`` on the file, which the kernel releases
when the holder ends in any way (Ctrl-C, ``kill -9``, a crash), so a lock is
never stale for the lock itself: a run that finds the file but can take the
lock takes it over (it says so, naming the process that left it). The file
holds JSON naming the holder: ``pid``, ``host``, ``command`` and ``since``
(UTC), which the refusal of a second run prints. The holder deletes the file
when it ends normally.

The lock file is opened only as a regular file at its own path, never
through a symbolic link (``O_NOFOLLOW``) and never waiting on a named pipe
(``O_NONBLOCK``, then its kind checked before anything is read or written):
either is refused in one line naming it, and a link's target is left as it is.

Where ``flock`` is not supported (some network file systems answer ENOLCK),
the file's content decides: a holder on this host whose pid still runs is
respected, anything else is taken over.
"""
import datetime
import errno
import fcntl
import json
import os
import socket
import stat

from compare.errors import UserError, printable_path
from compare.rundir.layout import LOCK

_NOT_SUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


class RunLock:
    """``with RunLock(run_dir, 'compare/run.py'):`` holds the lock of ``run_dir``.

    ``fix``: what the refusal tells the user to do.

    Attributes:
        path: the lock file.
        previous: the holder a stale lock file named (dict), or None.

    Raises (on enter):
        UserError: another process holds the lock (names it and what to do).
    """

    def __init__(self, run_dir, command, fix='wait for it to end or pass another --out'):
        self.path = os.path.join(run_dir, LOCK)
        self.command = command
        self.fix = fix
        self.fd = None
        self.previous = None

    def __enter__(self):
        for _ in range(10):  # the holder may delete the file between our open and flock
            fd = _open(self.path)
            try:
                held = not _flock(fd)
                if held or not _same_file(fd, self.path):
                    if held:
                        raise UserError(self._refusal(_read(fd)))
                    os.close(fd)
                    continue
            except BaseException:
                os.close(fd)
                raise
            self.fd = fd
            self.previous = _read(fd)
            _write(fd, {'pid': os.getpid(), 'host': socket.gethostname(),
                        'command': self.command,
                        'since': datetime.datetime.now(datetime.timezone.utc).strftime(
                            '%Y-%m-%dT%H:%M:%SZ')})
            return self
        raise UserError('cannot take the lock {}: it keeps being replaced; is another run '
                        'starting there?'.format(self.path))

    def __exit__(self, *exc):
        if self.fd is not None:
            try:
                os.remove(self.path)
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None
        return False

    def _refusal(self, holder):
        who = 'pid {} on host {} ({} since {})'.format(
            holder.get('pid', '?'), holder.get('host', '?'), holder.get('command', '?'),
            holder.get('since', '?')) if holder else 'another process'
        return ('{} is in use by {}: one run at a time per folder; {} (if that process is gone '
                'and the folder is on a network file system, delete {})'.format(
                    os.path.dirname(self.path) or '.', who, self.fix, self.path))


def _open(path):
    """The lock file's descriptor: a regular file at ``path``, never through a
    link, never blocking (a named pipe is refused before any read)."""
    flags = (os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK |
             getattr(os, 'O_CLOEXEC', 0))
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise _not_a_file(path, 'a symbolic link') from None
        raise UserError('cannot open the lock file {}: {}; the run folder must be a writable '
                        'folder (remove {} if it is not a file)'.format(
                            path, exc.strerror, path)) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_a_file(path, 'a named pipe' if stat.S_ISFIFO(mode) else 'not a regular file')
    return fd


def _not_a_file(path, what):
    return UserError('the lock file {} is {}: a run folder\'s lock is a regular file, never '
                     'opened through a link; remove it (rm {} removes only that entry: the '
                     'lock holds nothing of the run) and rerun'.format(
                         printable_path(path), what, printable_path(path)))


def _flock(fd):
    """Take the lock without waiting: True if taken, False if held elsewhere."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if exc.errno in _NOT_SUPPORTED:
            return not _alive_here(_read(fd))
        raise


def _alive_here(holder):
    """Whether ``holder`` names a running process of this host other than us."""
    if not holder or holder.get('host') != socket.gethostname():
        return False
    pid = holder.get('pid')
    if not isinstance(pid, int) or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same_file(fd, path):
    """Whether ``fd`` is still the file at ``path`` (not deleted and recreated)."""
    try:
        return os.fstat(fd).st_ino == os.lstat(path).st_ino
    except FileNotFoundError:
        return False


def _read(fd):
    """The holder the lock file names (a dict), or None (empty or not ours)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        holder = json.loads(data.decode('utf-8')) if data.strip() else None
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _write(fd, holder):
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(holder, sort_keys=True) + '\n').encode('utf-8'))
