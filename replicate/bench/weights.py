"""``--weights untrained``: a deterministic stand-in for Chainer's default
initialisation (LeCun-normal convolutions, zero biases, normalisation scale
20), the same values in our model and ChainerCV's.

An untrained SSD is the worst case for post-processing: its class scores are
all about 1 / n_class, so with 21 classes nearly every one of the 8732 x 20
foreground scores passes the 'evaluate' threshold 0.01 and NMS sees tens of
thousands of boxes. (``--weights random`` instead gives the seeded weights of
:func:`replicate.ssd.weights.seeded_random_weights`, whose background bias lets
about 1% pass: a weak but less pathological model.)
"""
import zlib

import chainer
import numpy as np

from replicate.ssd.weights import param_keys


def _value(key, shape, seed):
    rng = np.random.default_rng([seed, zlib.crc32(key.encode('utf-8'))])
    if key.endswith('/scale'):
        return np.full(shape, 20.0)
    if len(shape) == 4:
        return rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
    return np.zeros(shape)


def untrained_weights(model, seed=0):
    """Fill ``model`` (ours or ChainerCV's SSD300) in place; returns it."""
    if any(param.array is None for _, param in model.namedparams()):
        # ChainerCV's lazy layers get their shapes from one forward
        x = model.xp.zeros((1, 3, model.insize, model.insize), dtype=np.float32)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            model(x)
    for key, param in sorted(param_keys(model).items()):
        param.array[...] = param.device.send(_value(key, param.shape, seed).astype(param.dtype))
    return model
