"""A large reference record kept small: its digest, its scale and a sample.

A full reference run of SSD300 is about 80 MB per image (the conv1 maps
alone are 23 MB each), too large to commit or to carry to another machine.
A record with more than N elements is therefore stored as:

* ``sha256``: the SHA-256 of its bytes (C order): equal digests prove every
  element equal, so an identical run is still verified element for element;
* ``absmax``: max |value| over the whole array (finite values), the
  denominator of ``scaled_err``, so the scale of a layer is never estimated;
* ``index`` / ``values``: N elements at seeded random flat positions plus the
  position of ``absmax``: where the digests differ, the errors are computed
  on these (the row's note says so). With N = 16384 the sample sees the
  error distribution of a layer well; its maximum can only be smaller than
  the true maximum, which the note states.

Detections (``predict[i]/...``) are never sampled: a detection list is
compared whole.
"""
import hashlib
import re
import zlib

import numpy as np

#: Records whose names match are always stored whole.
KEEP_WHOLE = re.compile(r'^predict\[')


class SampledArray(object):
    """A reference record reduced to ``shape``, ``dtype``, ``sha256``,
    ``absmax`` and ``values`` at flat positions ``index`` (int64, sorted)."""

    def __init__(self, shape, dtype, sha256, absmax, index, values):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.sha256 = str(sha256)
        self.absmax = float(absmax)
        self.index = np.asarray(index, dtype=np.int64)
        self.values = np.asarray(values)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def meta(self):
        """The JSON-able part (everything but ``index`` and ``values``)."""
        return {'shape': list(self.shape), 'dtype': self.dtype.str, 'sha256': self.sha256,
                'absmax': self.absmax}


def digest(array):
    """Hex SHA-256 of the array's bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def absmax(array):
    """max |x| over the finite elements as float (0.0 if there are none)."""
    finite = np.abs(array[np.isfinite(array)]) if array.dtype.kind == 'f' else np.abs(array)
    return float(finite.max()) if finite.size else 0.0


def sample_positions(name, array, n):
    """Sorted unique flat positions: ``n`` drawn with a seed taken from the
    record's name (so a rerun picks the same ones), plus that of max |x|."""
    rng = np.random.RandomState(zlib.crc32(name.encode()))
    flat = array.ravel()
    picks = rng.randint(0, flat.size, size=n)
    magnitude = np.where(np.isfinite(flat), np.abs(flat), -1) if flat.dtype.kind == 'f' \
        else np.abs(flat)
    return np.unique(np.append(picks, int(np.argmax(magnitude))))


def reduce_record(name, array, n):
    """``array`` itself if it is small (<= ``n`` elements) or a detection
    record, else its :class:`SampledArray`."""
    array = np.asarray(array)
    if n is None or array.size <= n or KEEP_WHOLE.search(name):
        return array
    index = sample_positions(name, array, n)
    return SampledArray(array.shape, array.dtype, digest(array), absmax(array), index,
                        array.ravel()[index])


def same_digest(a, b):
    """True when ``a`` (full array) has exactly ``b``'s bytes."""
    return a.shape == b.shape and a.dtype == b.dtype and digest(a) == b.sha256
