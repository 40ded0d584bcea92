"""Weight choices of the two Chainer SSD300 detectors (``ours``, ``chainercv``).

A weight spec is one of:

- ``voc0712`` / ``imagenet``: ChainerCV's named pretrained files. There is no
  network here, so the file must already be in ChainerCV's cache
  (``$CHAINER_DATASET_ROOT``, default ``~/.chainer/dataset``, then
  ``pfnet/chainercv/models/<file>``); we check that path ourselves BEFORE
  calling the model library, so a missing file is a one-line
  :class:`~compare.errors.UserError` naming the file and where to place it.
- a path to an ``.npz`` file.
- ``random`` or ``random:<seed>``: all parameters filled by
  ``replicate.weights.seeded_random_weights(model, seed)`` (seed default 0),
  identical for both implementations, and recorded as random in ``info``.
"""
import hashlib
import os

from compare.errors import UserError
from compare.paths import display_path
from replicate.provenance import file_sha256

#: Named pretrained SSD300 files, as ChainerCV 0.13.1 names them.
PRETRAINED_FILES = {
    'voc0712': 'ssd300_voc0712_converted_2017_06_06.npz',
    'imagenet': 'ssd_vgg16_imagenet_converted_2017_06_09.npz',
}
DOWNLOAD_BASE = 'https://chainercv-models.preferred.jp/'


def chainercv_models_dir():
    """ChainerCV's model cache folder (``$CHAINER_DATASET_ROOT`` aware)."""
    root = os.environ.get('CHAINER_DATASET_ROOT',
                          os.path.join(os.path.expanduser('~'), '.chainer', 'dataset'))
    return os.path.join(root, 'pfnet', 'chainercv', 'models')


def cached_pretrained_path(name):
    """Path where ChainerCV keeps the named file (it may not exist)."""
    return os.path.join(chainercv_models_dir(), PRETRAINED_FILES[name])


def is_cached(name):
    """Whether the named pretrained file is already on disk."""
    return os.path.isfile(cached_pretrained_path(name))


def parse_random_seed(spec):
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


def resolve(spec):
    """Check a weight spec and describe it.

    Returns:
        dict with ``kind`` (``'pretrained' | 'file' | 'random'``), ``weights``
        (the recorded name), ``path`` (file or None), ``seed`` (or None),
        ``weights_sha256`` (or None), ``random_weights`` (bool).

    Raises:
        UserError: unknown name, missing file, uncached pretrained file.
    """
    seed = parse_random_seed(spec)
    if seed is not None:
        return {'kind': 'random', 'weights': 'random (seed {})'.format(seed), 'path': None,
                'seed': seed, 'weights_sha256': None, 'random_weights': True}
    if spec in PRETRAINED_FILES:
        path = cached_pretrained_path(spec)
        if not os.path.isfile(path):
            raise UserError('pretrained weights {!r} not found: place {} (from {}{}) in {} '
                            '(no network here), or use random weights'.format(
                                spec, PRETRAINED_FILES[spec], DOWNLOAD_BASE,
                                PRETRAINED_FILES[spec], chainercv_models_dir()))
        return _file_weights('pretrained', spec, path)
    if spec.endswith('.npz') or os.path.sep in spec or os.path.exists(spec):
        if not os.path.isfile(spec):
            raise UserError('weight file {} does not exist; pass an existing .npz'.format(spec))
        return _file_weights('file', display_path(spec), spec)
    raise UserError('unknown weights {!r}; use one of {}, a path to a .npz, random or '
                    'random:<seed>'.format(spec, ', '.join(sorted(PRETRAINED_FILES))))


def _file_weights(kind, name, path):
    return {'kind': kind, 'weights': name, 'path': os.path.abspath(path), 'seed': None,
            'weights_sha256': file_sha256(path), 'random_weights': False}


def default_spec():
    """``voc0712`` when cached, else ``random`` (the caller must say so loudly)."""
    return 'voc0712' if is_cached('voc0712') else 'random'


def fill_random(model, seed):
    """Fill every parameter of ``model`` deterministically from ``seed``.

    Delegates to ``replicate.weights.seeded_random_weights`` so that ``ours``
    and ``chainercv`` get identical weights for one seed.
    """
    try:
        from replicate.weights import seeded_random_weights
    except ImportError as exc:
        raise UserError('random weights need replicate.weights.seeded_random_weights, which '
                        'is not importable ({}); use a weight file instead'.format(exc)) from None
    seeded_random_weights(model, seed=seed)


def params_sha256(model):
    """sha256 over the model's parameters, sorted by name (name, dtype, shape,
    bytes): equal for two models holding the same weights, whatever the file."""
    import numpy as np
    digest = hashlib.sha256()
    for name, param in sorted(model.namedparams()):
        array = np.ascontiguousarray(param.array)
        digest.update('{}|{}|{}\n'.format(name, array.dtype.str, array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
