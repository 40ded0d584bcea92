"""``raw/netout/<detector>/<image>.npz``: the Chainer SSDs' network outputs
kept with ``--keep-raw`` (format: the package docstring)."""
import glob
import hashlib
import io
import os
import stat
import zipfile

import numpy as np

from compare.errors import UserError
from compare.rundir import files
from compare.rundir.layout import NETOUT, raw_path
from replicate.npz import read_arrays

_NETOUT_KEYS = ('confs', 'insize', 'locs', 'size')
_MAX_NETOUT_NAME = 200  # bytes; file names may have 255


def netout_path(run_dir, detector, image):
    """``raw/netout/<detector>/<image, escaped>.npz``: ``%`` as ``%25`` and ``/``
    as ``%2F`` (one flat folder; two images never share a file), or the sha256
    of the image path when that name would be too long for the file system."""
    name = image.replace('%', '%25').replace('/', '%2F')
    if len(name.encode('utf-8')) > _MAX_NETOUT_NAME:
        name = hashlib.sha256(image.encode('utf-8')).hexdigest()  # no image suffix: no clash
    return raw_path(run_dir, os.path.join(NETOUT, detector, name + '.npz'))


def kept_files(run_dir, detector):
    """``(file name, path)`` of every kept output of ``detector``: the regular
    ``.npz`` files of ``raw/netout/<detector>/``, sorted."""
    folder = raw_path(run_dir, os.path.join(NETOUT, detector))
    paths = sorted(glob.glob(os.path.join(glob.escape(folder), '*.npz')))
    return [(os.path.basename(path), path) for path in paths
            if os.path.isfile(path) and not os.path.islink(path)]


def kept_path(run_dir, detector, file_name):
    """``raw/netout/<detector>/<file_name>`` (a name of :func:`kept_files`)."""
    return raw_path(run_dir, os.path.join(NETOUT, detector, file_name))


def write_netout(run_dir, detector, image, locs, confs, size, insize):
    """Keep one image's network outputs (format: module docstring)."""
    path = netout_path(run_dir, detector, image)
    files.make_folder(raw_path(run_dir, NETOUT))
    files.make_folder(os.path.dirname(path))
    data = io.BytesIO()
    np.savez_compressed(data, locs=np.asarray(locs, np.float32),
                        confs=np.asarray(confs, np.float32),
                        size=np.asarray(size, np.int64), insize=np.asarray(insize, np.int64))
    files.write_bytes(path, data.getvalue())


def read_netout(run_dir, detector, image):
    """``(locs, confs, (height, width), insize)`` of a kept image, or None if
    not kept.

    Raises:
        UserError: the file is not one this harness wrote.
    """
    path = netout_path(run_dir, detector, image)
    if not os.path.lexists(path):
        return None
    fix = 'delete it or rerun with --keep-raw --force'
    if os.path.isfile(path):
        # not a zip, truncated, pickled: one line naming the file
        data = read_arrays(path, prefix='cannot read kept network output',
                           expected='the arrays {} written by --keep-raw; {}'.format(
                               ', '.join(_NETOUT_KEYS), fix), error=UserError)
    try:
        if not os.path.isfile(path):
            raise ValueError('not a regular file')
        if tuple(sorted(data)) != _NETOUT_KEYS:
            raise ValueError('arrays {}'.format(sorted(data)))
        locs, confs = data['locs'], data['confs']
        size, insize = tuple(int(v) for v in data['size']), int(data['insize'])
        if locs.ndim != 2 or locs.shape[1] != 4 or confs.shape[0] != locs.shape[0]:
            raise ValueError('shapes {} and {}'.format(locs.shape, confs.shape))
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError('{} is not kept network output of this harness ({}); {}'.format(
            path, exc, fix)) from None
    return locs, confs, size, insize


def remove_netout(run_dir, detector, images=None):
    """Delete the kept network outputs of ``detector``: of ``images`` (paths as
    in the records), or all of them when None: the ``.npz`` entries of
    ``raw/netout/<detector>/`` (and their ``.part``), then the folder if that
    left it empty; anything else there stays. A link in place of the folder
    is removed (not its target)."""
    if images is None:
        folder = raw_path(run_dir, os.path.join(NETOUT, detector))
        if not os.path.lexists(folder):
            return
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            os.remove(folder)
            return
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if name.endswith(('.npz', '.npz.part')) and not stat.S_ISDIR(
                    os.lstat(path).st_mode):
                os.remove(path)
        if not os.listdir(folder):
            os.rmdir(folder)
        return
    for image in images:
        files.remove(netout_path(run_dir, detector, image))
