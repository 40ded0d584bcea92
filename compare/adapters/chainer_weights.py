"""Weight choices of the two Chainer SSD300 detectors (``ours``, ``chainercv``).

A weight spec, the ARG of ``ours:ARG`` and ``chainercv:ARG``, is one of:

- ``voc0712`` / ``imagenet``: ChainerCV's named pretrained files
  (:data:`replicate.ssd.pretrained.PRETRAINED`), from ChainerCV's cache folder or
  downloaded (:func:`replicate.ssd.pretrained.fetch`); a file neither cached nor
  downloadable is a one-line error naming the file, its URL and the folder.
- a path to an ``.npz`` in ChainerCV's layout.
- ``random`` or ``random:<seed>``: every parameter filled by
  :func:`replicate.ssd.weights.seeded_random_weights` (seed default 0), identical
  for both implementations, and recorded as random.
- nothing (``ours``, ``chainercv``): ``voc0712`` if it is already cached (no
  download is tried), else ``random`` -- said loudly in the log, meta.json and
  the report banner.

Both implementations are filled the same way, ChainerCV's included: built
without weights, then loaded by the suite's one strict loader
(:func:`replicate.ssd.weights.load_pretrained`: every key checked, a file holding
pickled objects refused before anything in it is unpickled).
"""
import dataclasses
import hashlib
import os
import typing
import zipfile

import numpy as np

from compare.errors import UserError
from compare.paths import display_path
from replicate.ssd import pretrained
from replicate.ssd.weights import load_pretrained, materialize, seeded_random_weights


@dataclasses.dataclass(frozen=True)
class WeightChoice:
    """Which weights a Chainer SSD300 detector gets.

    Attributes:
        source: a pretrained name or an .npz path (for
            :func:`replicate.ssd.weights.load_pretrained`), or None for random.
        seed: the seed of random weights, or None.
        weights: how the choice is recorded: the name, the path as
            :func:`compare.paths.display_path` shows it, or ``random (seed N)``.
        note: why these weights: given on the command line, or the default.
    """
    source: typing.Optional[str]
    seed: typing.Optional[int]
    weights: str
    note: str

    @property
    def random_weights(self):
        return self.source is None


def _seed(spec):
    """``'random'`` -> 0, ``'random:7'`` -> 7; None if ``spec`` is not random."""
    if spec == 'random':
        return 0
    if spec.startswith('random:'):
        seed = spec.split(':', 1)[1]
        if not seed.isdigit():
            raise UserError('random weight seed must be a non-negative integer, got {!r} '
                            '(use random:0)'.format(seed))
        return int(seed)
    return None


def choose(spec):
    """The :class:`WeightChoice` of a weight spec (module docstring).

    Raises:
        UserError: an unknown name, a path that does not exist, a bad seed.
    """
    if not spec:
        return default_weights()
    given = 'given on the command line'
    seed = _seed(spec)
    if seed is not None:
        return WeightChoice(None, seed, 'random (seed {})'.format(seed), given)
    if spec in pretrained.PRETRAINED:
        return WeightChoice(spec, None, spec, given)
    if spec.endswith('.npz') or os.path.sep in spec or os.path.exists(spec):
        if not os.path.isfile(spec):
            raise UserError('weight file {} does not exist; pass an existing .npz'.format(spec))
        _refuse_trained_model(spec)
        return WeightChoice(spec, None, display_path(spec), given)
    raise UserError('unknown weights {!r}; use one of {}, a path to a .npz, random or '
                    'random:<seed>'.format(spec, ', '.join(sorted(pretrained.PRETRAINED))))


#: The member naming a model file of ``python -m replicate.train``
#: (:data:`replicate.train.snapshot.META_KEY` in an .npz archive).
TRAINED_MEMBER = '__meta__.npy'


def _refuse_trained_model(path):
    """A model file written by ``python -m replicate.train`` (its JSON
    description and list of absent arrays are string arrays) is not a weights
    file: say which kind reads it. Only the archive's member names are read."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return  # not an archive: loading says why, naming the file
    if TRAINED_MEMBER in names:
        raise UserError('{} is a model written by python -m replicate.train, not a weights '
                        'file; run it with -d trained:{}'.format(path, path))


def default_weights():
    """``voc0712`` when cached, else ``random:0`` (the note says so loudly)."""
    if pretrained.is_cached('voc0712'):
        return WeightChoice('voc0712', None, 'voc0712', 'DEFAULT: voc0712 cached')
    return WeightChoice(None, 0, 'random (seed 0)', (
        # the file's name only: the cache folder is this machine's, and reports
        # written from this note must read the same on every machine
        'DEFAULT FALLBACK: voc0712 ({}) not in ChainerCV\'s model cache '
        '($CHAINER_DATASET_ROOT/pfnet/chainercv/models, root ~/.chainer/dataset by default), '
        'so RANDOM weights (seed 0); detections are meaningless for accuracy'.format(
            os.path.basename(pretrained.cached_path('voc0712')))))


def fill(model, choice):
    """Give ``model`` the chosen weights; returns the file loaded, or None.

    Parameters a file lacks by design (``imagenet``: everything but the
    VGG-16 base) keep the library's initial values, materialized here.
    """
    if choice.random_weights:
        seeded_random_weights(model, seed=choice.seed)
        return None
    path = load_pretrained(model, choice.source)
    materialize(model)
    return path


def params_sha256(model):
    """sha256 over the model's parameters, sorted by name (name, dtype, shape,
    bytes): equal for two models holding the same weights, whatever the file."""
    digest = hashlib.sha256()
    for name, param in sorted(model.namedparams()):
        array = np.ascontiguousarray(param.array)
        digest.update('{}|{}|{}\n'.format(name, array.dtype.str, array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
