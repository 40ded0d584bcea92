"""Weights: seeded random initialisation shared between implementations, and
the suite's one ``.npz`` loader.

:func:`load_weights` is the only way the suite reads a weight file: the model
(``SSD300(pretrained_model=...)``), the parity tool (``--weights``) and the
comparison harness (``-d ours:FILE.npz``, ``-d chainercv:FILE.npz``, for
ChainerCV's model too) all call it. It is strict (every key present, none
unexpected, every shape equal), where ChainerCV's own loading goes through
``chainer.serializers.load_npz(strict=False)``, which skips missing keys
silently and reads with ``allow_pickle=True``, so a file holding pickled
objects runs code when read. Ours refuses such a file before anything in it
is unpickled.

Key names are Chainer's serializer keys without the leading slash, e.g.
``extractor/conv1_1/W``, ``extractor/norm4/scale``, ``multibox/conf/0/b``;
they are the same in :class:`replicate.SSD300` and ChainerCV's ``SSD300``, so
one file (or one seed) gives both models identical parameters.
"""
import zlib

import chainer
import numpy as np

from replicate.errors import WeightsError
from replicate.npz import read_arrays
from replicate.ssd import pretrained

#: Std of conv1_1's weights is divided by this: inputs are pixels minus the mean
#: (about +-128), so the first activations come out of order 1.
INPUT_SCALE = 64.0
#: Gain of the loc heads (LeCun normal times this): offsets of order 0.1-1,
#: so decoded boxes stay near their default boxes instead of exploding.
LOC_GAIN = 0.5
#: Gain of the conf heads (LeCun normal times this) and the logit added to the
#: background class of every default box. Measured with 20 classes on smooth
#: random images (seed 0): about 1,100-1,500 of the 174,640 foreground scores
#: pass 0.01 (preset 'evaluate') and 3-15 pass 0.6 ('visualize'), so NMS sees
#: a realistic load instead of ~27,000 boxes (17 s in ChainerCV's NMS).
CONF_GAIN = 2.0
BACKGROUND_LOGIT = 12.0


def _rng(seed, key):
    """A generator that depends only on ``seed`` and the parameter's key."""
    return np.random.default_rng([seed, zlib.crc32(key.encode('utf-8'))])


def _conv_weight(key, shape, rng):
    """He-normal conv weights, scaled per role (see the module constants)."""
    fan_in = int(np.prod(shape[1:]))
    if key.startswith('multibox/loc/'):
        std = LOC_GAIN * np.sqrt(1.0 / fan_in)
    elif key.startswith('multibox/conf/'):
        std = CONF_GAIN * np.sqrt(1.0 / fan_in)
    else:
        std = np.sqrt(2.0 / fan_in)
        if key == 'extractor/conv1_1/W':
            std /= INPUT_SCALE
    return rng.standard_normal(shape) * std


def _bias(key, shape, rng, n_class):
    """Small biases; conf biases favour the background class (channel % n_class == 0)."""
    value = 0.01 * rng.standard_normal(shape)
    if key.startswith('multibox/conf/'):
        # conf channels are laid out (box, class): channel = box * n_class + class
        value[np.arange(shape[0]) % n_class == 0] += BACKGROUND_LOGIT
    return value


def _value(key, shape, rng, n_class):
    """The deterministic value of one parameter as a float64 array of ``shape``."""
    if key.endswith('/scale'):
        # L2-normalisation scale: around its usual initial value 20
        return 20.0 * (1.0 + 0.1 * rng.standard_normal(shape))
    if len(shape) == 4:
        return _conv_weight(key, shape, rng)
    return _bias(key, shape, rng, n_class)


def materialize(model):
    """Run one zero image through ``model`` if any parameter is still lazy.

    ChainerCV's links are built with ``in_channels=None``; their ``W`` has no
    shape until the first forward. Ours are never lazy, so this is skipped.
    """
    if all(param.array is not None for _, param in model.namedparams()):
        return
    xp = model.xp
    x = xp.zeros((1, 3, model.insize, model.insize), dtype=np.float32)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        model(x)


def seeded_random_weights(model, seed=0):
    """Fill every parameter of an SSD model with seeded random values.

    Each parameter gets its own generator seeded by ``(seed, crc32(key))``
    (keys as in :func:`param_keys`), and parameters are visited in sorted key
    order, so ``replicate.SSD300`` and ChainerCV's ``SSD300`` with the same
    ``n_fg_class`` and seed end up with identical values, on any device.
    Values: He-normal convolutions (conv1_1 divided by :data:`INPUT_SCALE`),
    LeCun-normal heads times :data:`LOC_GAIN` / :data:`CONF_GAIN`, biases
    ``N(0, 0.01)`` plus :data:`BACKGROUND_LOGIT` on background conf channels,
    L2-normalisation scales ``20 * (1 + 0.1 N(0, 1))``.

    Args:
        model: an SSD chain with ``multibox.n_class`` and ``insize``.
        seed (int): the seed.

    Returns:
        The same ``model``, changed in place.
    """
    materialize(model)
    n_class = model.multibox.n_class
    for key, param in sorted(param_keys(model).items()):
        value = _value(key, param.shape, _rng(seed, key), n_class)
        param.array[...] = param.device.send(value.astype(param.dtype))
    return model


def param_keys(model):
    """Map serializer key (``extractor/conv1_1/W``, no leading slash) -> Parameter."""
    return {name.lstrip('/'): param for name, param in model.namedparams()}


def read_npz(path):
    """All arrays of an .npz weight file, as ``{key: numpy array}``.

    Read by :func:`replicate.npz.read_arrays`: a member holding Python
    objects is refused before anything in it is unpickled; a file that is not
    a zip archive, or a truncated one, is named as such.

    Raises:
        WeightsError: one line naming the file: missing, not an .npz archive,
            pickled objects, arrays that are not numbers, or numbers that are
            NaN or Inf (a model computing with them outputs NaN scores, which
            every threshold drops: zero detections that look like a result).
    """
    arrays = read_arrays(path, 'an .npz written by chainer.serializers.save_npz',
                         'cannot read weights file', WeightsError)
    odd = sorted(key for key, value in arrays.items() if value.dtype.kind not in 'biuf')
    if odd:
        raise WeightsError('weights file {} has arrays that are not numbers: {}'.format(
            path, ', '.join('{} ({})'.format(k, arrays[k].dtype) for k in odd)))
    broken = sorted(key for key, value in arrays.items()
                    if value.dtype.kind == 'f' and not np.isfinite(value).all())
    if broken:
        raise WeightsError('weights file {} holds NaN or Inf values in {} array(s): {}; the '
                           'file is corrupt (or from a training that diverged)'.format(
                               path, len(broken), ', '.join(broken[:5]) +
                               (', ...' if len(broken) > 5 else '')))
    return arrays


def _shape(param):
    return None if param.array is None else tuple(param.shape)


def weight_problems(params, arrays, allow_missing=()):
    """Every mismatch between a model's parameters and a file's arrays.

    Args:
        params: dict key -> Parameter (see :func:`param_keys`).
        arrays: dict key -> array.
        allow_missing (tuple of str): key prefixes that may be absent.

    Returns:
        list of str, empty when the file fits.
    """
    missing = sorted(k for k in params if k not in arrays
                     and not k.startswith(tuple(allow_missing)))
    unexpected = sorted(k for k in arrays if k not in params)
    misshapen = ['{} (file {}, model {})'.format(k, arrays[k].shape, _shape(params[k]))
                 for k in sorted(params) if k in arrays
                 and _shape(params[k]) not in (None, arrays[k].shape)]
    problems = []
    for what, keys in (('missing', missing), ('unexpected', unexpected),
                       ('misshapen', misshapen)):
        if keys:
            problems.append('{} {} keys: {}'.format(len(keys), what, ', '.join(keys)))
    return problems


def load_weights(model, path, allow_missing=()):
    """Load an .npz into ``model``, refusing any file that does not fit.

    Unlike ``chainer.serializers.load_npz(strict=False)`` nothing is skipped
    silently: every missing, unexpected or misshapen key is named in one
    :class:`WeightsError`, and nothing is loaded then. Keys are serializer keys
    (``extractor/conv1_1/W``); SSD has no persistent values, only parameters.

    Args:
        model: a chain, e.g. :class:`replicate.SSD300`.
        path (str): .npz file, e.g. from ``chainer.serializers.save_npz`` of a
            ChainerCV SSD300 or ChainerCV's pretrained files (read by
            :func:`read_npz`: pickled objects are refused).
        allow_missing (tuple of str): key prefixes the file may lack (their
            parameters keep their values), e.g. the heads for ImageNet VGG-16.

    Returns:
        ``model``.
    """
    arrays = read_npz(path)
    params = param_keys(model)
    problems = weight_problems(params, arrays, allow_missing)
    if problems:
        raise WeightsError('{} does not fit {} (n_fg_class={}): {}'.format(
            path, type(model).__name__, model.multibox.n_class - 1, '; '.join(problems)))
    for key, value in sorted(arrays.items()):
        param = params[key]
        if param.array is None:
            param.initialize(value.shape)
        param.array[...] = param.device.send(value.astype(param.dtype, copy=False))
    return model


def load_pretrained(model, pretrained_model, table=None):
    """ChainerCV's ``pretrained_model`` argument, loaded strictly into ``model``.

    Args:
        model: :class:`replicate.SSD300` or ChainerCV's ``SSD300`` (or the
            SSD512s, with their ``table``).
        pretrained_model (str): a name of ``table`` (default
            :data:`replicate.ssd.pretrained.PRETRAINED`; the cached file, else
            downloaded; keys the file lacks by design keep their values) or a
            path to an .npz.

    Returns:
        The path of the file loaded.
    """
    table = pretrained.PRETRAINED if table is None else table
    if pretrained_model in table:
        path = pretrained.fetch(pretrained_model, table)
        try:
            load_weights(model, path, allow_missing=table[pretrained_model].optional)
        except WeightsError as error:
            # a cached copy that does not load: half downloaded, or not that file
            raise WeightsError('{}; it is the cached copy of {!r}: delete it and rerun to '
                               'download it again (or place a good copy there)'.format(
                                   error, pretrained_model)) from None
        return path
    load_weights(model, pretrained_model)
    return pretrained_model
