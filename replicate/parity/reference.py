"""A saved reference run: ChainerCV's records, the inputs and the settings.

Written on a machine that has ChainerCV (``--save-reference``), read where
only our model runs (``--reference``, e.g. the GPU machine). One ``.npz``:

* ``config``: JSON text of the settings (seed, n_fg_class, weights, preset,
  resize backend, provenance of the reference run);
* ``names``: the record names in execution order; ``record_<k>``: record k;
* ``x``: the prepared batch; ``image_<k>``: the raw images for ``predict``;
* in a compact file (``--sample N``), records of more than N elements are
  sampled (:class:`~replicate.parity.sampled.SampledArray`): ``record_<k>`` holds
  the sampled values, ``index_<k>`` their flat positions, and ``sampled``
  (JSON text) maps ``k`` to the shape, dtype, SHA-256 and max |value| of the
  whole array.
"""
import collections
import json
import os

import numpy as np

from replicate.npz import read_arrays
from replicate.parity.errors import ParityError
from replicate.parity.sampled import SampledArray, reduce_record


def save_reference(path, records, config, x, images, sample=None):
    """Write the reference ``.npz`` (see module doc); returns ``path``.

    Args:
        sample (int or None): keep records of more than ``sample`` elements
            as a digest plus that many sampled elements (None: keep all).
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arrays = {'config': np.array(json.dumps(config, sort_keys=True)),
              'names': np.array(list(records), dtype=str), 'x': x}
    sampled = {}
    for k, (name, value) in enumerate(records.items()):
        value = reduce_record(name, value, sample)
        if isinstance(value, SampledArray):
            sampled[str(k)] = value.meta()
            arrays['index_{:04d}'.format(k)] = value.index
            value = value.values
        arrays['record_{:04d}'.format(k)] = value
    arrays['sampled'] = np.array(json.dumps(sampled, sort_keys=True))
    arrays.update(('image_{:04d}'.format(k), img) for k, img in enumerate(images))
    np.savez_compressed(path, **arrays)
    return path


def _record(data, k, sampled):
    """Record ``k``: an array, or a :class:`SampledArray` for a compact one."""
    key = '{:04d}'.format(k)
    meta = sampled.get(str(k))
    if meta is None:
        return data['record_' + key]
    return SampledArray(meta['shape'], meta['dtype'], meta['sha256'], meta['absmax'],
                        data['index_' + key], data['record_' + key])


def load_reference(path):
    """``(records, config, x, images)`` from a file written by
    :func:`save_reference`.

    Raises:
        ParityError: the file is missing or is not such a file.
    """
    if not os.path.isfile(path):
        raise ParityError('reference file {} not found: make it with --save-reference {} '
                          'on a machine with ChainerCV'.format(path, path))
    data = read_arrays(path, 'a parity reference file: remake it with --save-reference',
                       error=ParityError)
    try:
        config = json.loads(str(data['config']))
        names = [str(n) for n in data['names']]
        sampled = json.loads(str(data['sampled'])) if 'sampled' in data else {}
        records = collections.OrderedDict(
            (name, _record(data, k, sampled)) for k, name in enumerate(names))
        images = [data[key] for key in sorted(data) if key.startswith('image_')]
        x = data['x']
    except (KeyError, ValueError, TypeError) as exc:
        raise ParityError('{} is not a parity reference file ({}): remake it with '
                          '--save-reference'.format(path, exc)) from exc
    return records, config, x, images
