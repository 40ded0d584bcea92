"""Start a new class set from trained weights: the paper's retraining recipe.

``--finetune-from SOURCE`` loads every array of SOURCE that the model has,
except the class heads (``multibox/conf/*``), which stay freshly initialised
for the new classes; ``--freeze-base`` then trains only SSD's own layers.
SOURCE is 'imagenet' (ChainerCV's VGG-16 base), 'voc0712' (ChainerCV's full
SSD300/SSD512), or a path: a ChainerCV-style weights .npz, or a model or
snapshot file of ``python -m replicate.train``; or ``tf:EXPORT_DIR``, an OD
API export, for the model built from its pipeline.config
(:mod:`replicate.train.odapi_source`).

The file must hold the whole base (:func:`replicate.train.recipe.base_links`)
with the model's shapes; any other array it holds must fit the model too.
Files are read with ``allow_pickle=False``.
"""

import numpy as np
from chainer.serializers import DictionarySerializer, NpzDeserializer

from replicate.errors import UserError
from replicate.npz import read_arrays
from replicate.train import odapi_source
from replicate.train.models import ODAPI
from replicate.train.recipe import base_links
from replicate.train.snapshot import META_KEY, NONE_KEY

NAMED = ('imagenet', 'voc0712')
#: Arrays never taken from the source: the class heads of the new class set.
NEW_HEADS = 'multibox/conf/'
SNAPSHOT_PREFIX = 'updater/model:main/model/'


def resolve(source, arch):
    """A named source -> its cached (or downloaded) file; a path -> itself."""
    if source not in NAMED:
        return source
    if arch == 'ssd300':
        from replicate.ssd.pretrained import fetch
        return fetch(source)
    if arch == 'ssd512':
        from replicate.ssd.pretrained import fetch
        from replicate.ssd.ssd512 import PRETRAINED_512
        return fetch(source, PRETRAINED_512)
    raise UserError('--finetune-from {} exists for ssd300 and ssd512 only; for {} pass '
                    'the path of a model or snapshot file'.format(source, arch))


def _read(path):
    arrays = read_arrays(path, 'a weights, model or snapshot .npz',
                         'cannot read --finetune-from')
    arrays.pop(META_KEY, None)
    arrays.pop(NONE_KEY, None)
    if any(key.startswith(SNAPSHOT_PREFIX) for key in arrays):
        arrays = {key[len(SNAPSHOT_PREFIX):]: value for key, value in arrays.items()
                  if key.startswith(SNAPSHOT_PREFIX)}
    return arrays


def _problems(model, arrays):
    target = DictionarySerializer()
    target.save(model)
    shapes = {key: np.shape(value) for key, value in target.target.items()}
    base = tuple('extractor/{}/'.format(name) for name in base_links(model))
    missing = sorted(k for k in shapes if k.startswith(base) and k not in arrays)
    unexpected = sorted(k for k in arrays if k not in shapes and not k.startswith(NEW_HEADS))
    misshapen = sorted('{} (file {}, model {})'.format(k, arrays[k].shape, shapes[k])
                       for k in arrays if k in shapes and not k.startswith(NEW_HEADS)
                       and arrays[k].shape != shapes[k])
    return [('{} {} keys: {}'.format(len(keys), what, ', '.join(keys[:4])
                                     + (', ...' if len(keys) > 4 else '')))
            for what, keys in (('missing base', missing), ('unexpected', unexpected),
                               ('misshapen', misshapen)) if keys]


def finetune_from(model, source, arch):
    """Load ``source`` into ``model`` except the class heads (see above).

    Returns:
        (path, loaded, kept): the file read, the sorted keys loaded, the sorted
        keys left at their initial values.

    Raises:
        UserError: unreadable file, or a file that does not fit the model.
    """
    if odapi_source.is_export(source) != (arch == ODAPI):
        raise UserError('--finetune-from {} does not fit {}: tf:EXPORT_DIR is the source of '
                        'the OD API model it describes, and its only source'.format(
                            source, arch))
    if arch == ODAPI:
        return odapi_source.load_export(model, source)
    path = resolve(source, arch)
    arrays = _read(path)
    problems = _problems(model, arrays)
    if problems:
        raise UserError('--finetune-from {} does not fit {}: {} (pass a base or SSD file of '
                        'this architecture)'.format(path, arch, '; '.join(problems)))
    arrays = {k: v for k, v in arrays.items() if not k.startswith(NEW_HEADS)}
    NpzDeserializer(arrays, strict=False).load(model)
    every = DictionarySerializer()
    every.save(model)
    kept = sorted(k for k in every.target if k not in arrays)
    return path, sorted(arrays), kept
