"""Paths as recorded in meta.json, tables and reports: portable across checkouts.

A run records every file or folder it names (images folder, weights, label
maps, CLI arguments) with :func:`display_path`: relative to the current
working directory when inside it, absolute otherwise. So the same command run
from the root of two clones (``/home/a/ssd`` and ``/ci/build/ssd``) writes the
same strings, and only the provenance (date, commit) differs.

The images folder is recorded twice in meta.json's ``images`` block:
``folder`` (relative to the cwd of the run, as above) and ``folder_from_run``
(:func:`from_run`: relative to the run folder itself, or absolute when the
images lie outside the cwd); :meth:`compare.rundir.RunMeta.images_dir` tries
the second first, which works from any cwd as long as the run folder and the
images keep their relative places.
"""
import os


def display_path(path, start=None):
    """``path`` relative to ``start`` (default: the cwd) if inside it, else absolute.

    Args:
        path: a file or folder path (str or path-like), relative to the cwd or
            absolute; None passes through.
        start: the folder to be relative to.

    Returns:
        A posix string (``/`` separators) such as ``'tests/fixtures/x.pb'`` or
        ``'/opt/models/x.pb'``; ``'.'`` for ``start`` itself.
    """
    if path is None:
        return None
    full = os.path.abspath(path)
    base = os.path.abspath(start or os.getcwd())
    relative = os.path.relpath(full, base)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return full.replace(os.sep, '/')
    return relative.replace(os.sep, '/')


def from_run(path, run_dir):
    """``path`` relative to the run folder ``run_dir`` when both are inside the cwd
    (``'../../images'``), else absolute; posix."""
    if display_path(path).startswith('/') or display_path(run_dir).startswith('/'):
        return os.path.abspath(path).replace(os.sep, '/')
    return os.path.relpath(os.path.abspath(path), os.path.abspath(run_dir)).replace(os.sep, '/')
