""":func:`read_arrays`: the one way replicate opens a user's ``.npz``.

``np.load(path, allow_pickle=False)`` says "Cannot load file containing
pickled data when allow_pickle=False" for any file that is not a zip archive
(it takes it for a pickle), so a text file or an empty one reads as "holds
pickled data". This reader tells the cases apart, in one line naming the file:

- not a zip archive at all (wrong file, empty file);
- a zip archive that cannot be read (truncated, corrupt member);
- a member holding pickled Python objects: refused before anything in it is
  unpickled;
- missing or unreadable file (the OS error).

Callers append what file they expected (``expected=``), which is the fix.
"""
import zipfile
import zlib

import numpy as np

from replicate.errors import UserError, one_line

#: The first bytes of a zip archive (an .npz is one).
ZIP_MAGIC = b'PK\x03\x04'
PICKLED = ('holds pickled Python objects; refused without unpickling anything '
           '(read with allow_pickle=False)')


def _reason(path):
    """Why ``path`` cannot be an .npz before numpy opens it, or None."""
    try:
        with open(path, 'rb') as f:
            magic = f.read(len(ZIP_MAGIC))
    except OSError as error:
        return error.strerror or str(error)
    if magic != ZIP_MAGIC:
        return 'not an .npz (zip) archive' + (' (the file is empty)' if not magic else '')
    return None


def read_arrays(path, expected='an .npz of numeric arrays', prefix='cannot read',
                error=UserError):
    """All arrays of the .npz at ``path``, as ``{key: numpy array}``.

    Args:
        path (str): the file.
        expected (str): what the caller wanted, ending the message, e.g.
            ``'a snapshot or model .npz written by python -m replicate.train'``.
        prefix (str): the message's start before the path (e.g. ``'cannot
            read weights file'``).
        error: the :class:`UserError` class raised (e.g. ``WeightsError``).

    Raises:
        error: one line ``'{prefix} {path}: {reason}; expected {expected}'``
            where reason is one of those of the module docstring.
    """
    reason = _reason(path)
    if reason is None:
        try:
            with np.load(path, allow_pickle=False) as loaded:
                return {key: loaded[key] for key in loaded.files}
        except ValueError as exc:
            reason = (PICKLED if 'allow_pickle' in str(exc)
                      else 'corrupt .npz archive: {}'.format(one_line(exc)))
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            reason = 'truncated or corrupt .npz (zip) archive: {}'.format(
                one_line(exc) or type(exc).__name__)
    raise error('{} {}: {}; expected {}'.format(prefix, path, reason, expected))
