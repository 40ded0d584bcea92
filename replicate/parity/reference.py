"""A saved reference run: ChainerCV's records, the inputs and the settings.

Written on a machine that has ChainerCV (``--save-reference``), read where
only our model runs (``--reference``, e.g. the GPU machine). One ``.npz``:

* ``config``: JSON text of the settings (seed, n_fg_class, weights, preset,
  resize backend, provenance of the reference run);
* ``names``: the record names in execution order; ``record_<k>``: record k;
* ``x``: the prepared batch; ``image_<k>``: the raw images for ``predict``.
"""
import collections
import json
import os

import numpy as np

from replicate.parity.errors import ParityError


def save_reference(path, records, config, x, images):
    """Write the reference ``.npz`` (see module doc); returns ``path``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arrays = {'config': np.array(json.dumps(config, sort_keys=True)),
              'names': np.array(list(records), dtype=str), 'x': x}
    arrays.update(('record_{:04d}'.format(k), v) for k, v in enumerate(records.values()))
    arrays.update(('image_{:04d}'.format(k), img) for k, img in enumerate(images))
    np.savez_compressed(path, **arrays)
    return path


def load_reference(path):
    """``(records, config, x, images)`` from a file written by
    :func:`save_reference`.

    Raises:
        ParityError: the file is missing or is not such a file.
    """
    if not os.path.isfile(path):
        raise ParityError('reference file {} not found: make it with --save-reference {} '
                          'on a machine with ChainerCV'.format(path, path))
    try:
        with np.load(path, allow_pickle=False) as data:
            config = json.loads(str(data['config']))
            names = [str(n) for n in data['names']]
            records = collections.OrderedDict(
                (name, data['record_{:04d}'.format(k)]) for k, name in enumerate(names))
            images = [data[key] for key in sorted(data.files) if key.startswith('image_')]
            x = data['x']
    except (KeyError, ValueError, OSError) as exc:
        raise ParityError('{} is not a parity reference file ({}): remake it with '
                          '--save-reference'.format(path, exc)) from exc
    return records, config, x, images
