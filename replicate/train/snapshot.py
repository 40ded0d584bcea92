"""Snapshots and trained models as .npz files that never need unpickling.

Chainer's own ``save_npz`` stores ``None`` as a pickled object array and its
``load_npz`` allows pickle, so a file a user points us at could run code.
Here every value is a plain numeric or string array, ``None`` is listed under
:data:`NONE_KEY`, and files are read by :func:`replicate.npz.read_arrays`
(``allow_pickle=False``; pickled members are refused, not unpickled).

Two kinds of file, both with a JSON description under :data:`META_KEY`
(format, kind, model spec, class names, iteration):

- snapshot (``kind: 'snapshot'``): the whole trainer (model, optimizer state,
  iterator position, log, schedule) under Chainer's serializer keys;
- model (``kind: 'model'``): the model's parameters and persistent values
  under their serializer keys (``extractor/conv1_1/W``, ...): for SSD300 the
  same keys as ChainerCV's files.
"""
import json
import os

import chainer
import numpy as np
from chainer.serializers import DictionarySerializer, NpzDeserializer

from replicate.errors import UserError
from replicate.npz import read_arrays

META_KEY = '__meta__'
NONE_KEY = '__none__'
FORMAT = 'replicate.train/1'


def _to_arrays(target):
    """Serializer output -> dict of plain arrays plus :data:`NONE_KEY`."""
    arrays, none = {}, []
    for key, value in target.items():
        value = np.asarray(value)
        if value.dtype == object:
            if value.shape == () and value[()] is None:
                none.append(key)
                continue
            raise TypeError('cannot store {} without pickle (dtype object)'.format(key))
        arrays[key] = value
    arrays[NONE_KEY] = np.array(sorted(none), dtype=str)
    return arrays


def _write(path, arrays, meta):
    """Write atomically: a temporary file renamed over ``path``."""
    arrays = dict(arrays)
    arrays[META_KEY] = np.array(json.dumps(meta, sort_keys=True))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temp = os.path.join(folder, '.{}.part'.format(os.path.basename(path)))
    with open(temp, 'wb') as f:
        np.savez_compressed(f, **arrays)
    os.replace(temp, path)


def _read(path, kinds):
    """(arrays, meta) of a file of one of ``kinds``, or UserError naming it."""
    arrays = read_arrays(path, 'a snapshot or model .npz written by python -m replicate.train')
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
        assert meta['format'] == FORMAT
    except (KeyError, ValueError, TypeError, AssertionError):
        raise UserError('{} is not a file written by python -m replicate.train ({} missing '
                        'or unknown; a plain weights .npz goes to --finetune-from)'.format(
                            path, META_KEY)) from None
    if meta.get('kind') not in kinds:
        raise UserError('{} is a {} file, expected a {} (see python -m replicate.train '
                        '--help)'.format(path, meta.get('kind'), ' or '.join(kinds)))
    return arrays, meta


class _NoneEntry:
    """What Chainer's deserializer sees for a stored None (``x[()] is None``)."""

    def __getitem__(self, index):
        return None


class _Entries(dict):
    """File arrays with the stored Nones restored for NpzDeserializer."""

    def __init__(self, arrays):
        none = arrays.pop(NONE_KEY, np.array([], dtype=str))
        super().__init__(arrays)
        for key in none.tolist():
            self[key] = _NoneEntry()


def _deserialize(path, arrays, target):
    try:
        NpzDeserializer(_Entries(arrays), strict=True).load(target)
    except (KeyError, ValueError, TypeError) as error:
        raise UserError('{} does not fit this run: {}: {} (was it written by another model '
                        'or class set?)'.format(path, type(error).__name__, error)) from None


def save_snapshot(path, trainer, meta):
    """Write the whole trainer to ``path`` with ``meta`` (kind 'snapshot')."""
    serializer = DictionarySerializer()
    serializer.save(trainer)
    meta = dict(meta, format=FORMAT, kind='snapshot',
                iteration=int(trainer.updater.iteration))
    _write(path, _to_arrays(serializer.target), meta)


def read_meta(path, kinds=('snapshot', 'model')):
    """The description of a snapshot or model file (UserError if not one)."""
    return _read(path, kinds)[1]


def load_snapshot(path, trainer):
    """Restore ``trainer`` (built for the same model and data) from ``path``."""
    arrays, meta = _read(path, ('snapshot',))
    _deserialize(path, arrays, trainer)
    return meta


def save_model(path, model, meta):
    """Write the model's parameters and persistents (kind 'model')."""
    serializer = DictionarySerializer()
    serializer.save(model)
    _write(path, _to_arrays(serializer.target), dict(meta, format=FORMAT, kind='model'))


def load_model(path):
    """A trained model file -> (model, meta); the model is rebuilt from the
    file's description, its class names are ``meta['label_names']``."""
    from replicate.train.models import ModelSpec
    arrays, meta = _read(path, ('model', 'snapshot'))
    spec = ModelSpec.from_dict(meta.get('model', {}), path)
    model = spec.build()
    if meta['kind'] == 'snapshot':
        prefix = 'updater/model:main/model/'
        arrays = {key[len(prefix):]: value for key, value in arrays.items()
                  if key.startswith(prefix)}
    _deserialize(path, arrays, model)
    return model, meta


def snapshot_extension(meta, filename='snapshot_iter_{}.npz'):
    """A trainer extension writing ``save_snapshot`` to the output folder."""
    # after every other extension (as chainer's snapshot), so the log entry of
    # this iteration is in the file
    @chainer.training.make_extension(priority=-100)
    def snapshot(trainer):
        path = os.path.join(trainer.out, filename.format(trainer.updater.iteration))
        save_snapshot(path, trainer, meta)
    return snapshot
