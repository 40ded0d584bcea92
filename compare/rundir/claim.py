"""Which folders a run may write into, and the links it refuses there.

A run (and its ``--force``) writes only into a folder that is missing, empty,
or provably a run folder of this suite, which is one of:

- its ``meta.json`` reads as this suite's (:func:`compare.rundir.read_meta`:
  exactly its keys, a known state) and ``raw/`` is a folder;
- its ``raw/README.md`` is a regular file starting with
  :data:`compare.rundir.layout.README_TITLE`: every run writes it first,
  before ``meta.json`` (a run stopped while its detectors loaded, or whose
  ``meta.json`` was damaged since: ``--force`` recovers it);
- it holds only what a run leaves before its first file: ``raw/`` (empty),
  ``lock`` (a regular file) and ``shards/`` (empty, or holding a ``K-of-N`` folder).

Anything else (a user's own folder, another tool's ``meta.json``) is refused
in one line before anything in it is created, written or deleted.

In a folder it writes, no entry whose name the layout owns
(:mod:`compare.rundir.layout`) may be a symbolic link, nor anything but a
regular file (a folder for ``raw/``, ``figures/``, ``raw/netout/``...):
:func:`check_links` refuses the first one in one line naming it, so no file
of the run folder is ever written through a link (each write checks again:
:mod:`compare.rundir.files`).
"""
import os
import stat

from compare.errors import UserError, printable_path
from compare.rundir import files
from compare.rundir.layout import (
    FIGURES,
    LOCK,
    META,
    NETOUT,
    RAW,
    README,
    README_TITLE,
    SHARDS,
    is_figure,
    is_owned,
    raw_path,
    shard_of_folder,
)

#: A meta.json larger than this is not one of this suite's (it is read whole).
MAX_META_BYTES = 64 * 2 ** 20
#: The folders among :data:`compare.rundir.layout.TOP_LEVEL`.
_FOLDERS = (FIGURES, RAW, SHARDS)


def check_out(out):
    """Refuse to write the run folder ``out`` unless it is missing, empty or
    provably a run folder of this suite (module docstring) without links
    where the run writes (:func:`check_links`). Nothing is changed.

    Raises:
        UserError: one line naming the folder, what it holds and the fix.
    """
    if not os.path.isdir(out):
        return
    entries = sorted(os.listdir(out))
    if not entries:
        return
    why = foreign(out, entries)
    if why:
        shown = ', '.join(printable_path(name) for name in entries[:4])
        raise UserError('{}: not a run folder of this suite ({}; it holds {}{}): a run writes '
                        'only into a new or empty folder or into a run folder of its own, and '
                        'never overwrites or deletes other files, --force included; pass a new '
                        'or empty --out'.format(printable_path(out), why, shown,
                                                ', ...' if len(entries) > 4 else ''))
    check_links(out)


def foreign(out, entries=None):
    """Why ``out`` (an existing folder) is not provably a run folder of this
    suite, in words, or ``''`` when it is one."""
    entries = sorted(os.listdir(out)) if entries is None else entries
    if _our_meta(out) or _our_readme(out) or _run_leftovers(out, entries):
        return ''
    if not os.path.lexists(os.path.join(out, META)):
        return 'no meta.json of a run'
    return 'its meta.json is not one of this suite\'s and there is no raw/README.md of a run'


def _our_meta(out):
    from compare.rundir.meta import read_meta
    try:
        info = os.lstat(os.path.join(out, META))
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_META_BYTES:
            return False
        return read_meta(out) is not None and os.path.isdir(os.path.join(out, RAW))
    except (UserError, OSError):
        return False


def _our_readme(out):
    path = raw_path(out, README)
    try:
        if not os.path.isfile(path):  # evidence may be read through a link (check_links)
            return False
        with open(path, 'rb') as f:
            return f.read(len(README_TITLE) + 1) == (README_TITLE + '\n').encode('utf-8')
    except OSError:
        return False


def _run_leftovers(out, entries):
    if not set(entries) <= {RAW, LOCK, SHARDS}:
        return False
    try:
        raw, lock, shards = (os.path.join(out, name) for name in (RAW, LOCK, SHARDS))
        return ((not os.path.lexists(raw) or (_is_folder(raw) and not os.listdir(raw))) and
                (not os.path.lexists(lock) or _is_regular(lock)) and
                # shards/ with a K-of-N folder: the evidence; nothing is written
                # inside it but by a shard run into its own, claimed, folder
                (not os.path.lexists(shards) or (_is_folder(shards) and _has_shards(shards))))
    except OSError:
        return False


def _has_shards(folder):
    names = os.listdir(folder)
    return not names or any(shard_of_folder(name) is not None for name in names)


def _is_folder(path):
    return stat.S_ISDIR(os.lstat(path).st_mode) if os.path.lexists(path) else False


def _is_regular(path):
    return stat.S_ISREG(os.lstat(path).st_mode) if os.path.lexists(path) else False


def check_links(run_dir):
    """UserError naming the first entry of ``run_dir`` the suite would write
    that is a link or of the wrong kind: at its top level the names of
    :data:`compare.rundir.layout.TOP_LEVEL`, every file of ``raw/``, the
    folders of ``raw/netout/``, the figures of ``figures/``."""
    for name in sorted(os.listdir(run_dir)):
        if is_owned(name):
            _check(os.path.join(run_dir, name), folder=name in _FOLDERS)
    raw = os.path.join(run_dir, RAW)
    for name in _listing(raw):
        path = os.path.join(raw, name)
        if name == NETOUT or not _is_folder(path):  # a folder of someone else's stays
            _check(path, folder=name == NETOUT)
    netout = raw_path(run_dir, NETOUT)
    for name in _listing(netout):
        _check(os.path.join(netout, name), folder=True)
    figures = os.path.join(run_dir, FIGURES)
    for name in _listing(figures):
        if is_figure(name):
            _check(os.path.join(figures, name), folder=False)


def _check(path, folder):
    (files.check_folder if folder else files.check_writable)(path)


def _listing(folder):
    """The entries of ``folder`` if it is a real folder (``[]`` if not)."""
    return sorted(os.listdir(folder)) if _is_folder(folder) else []
