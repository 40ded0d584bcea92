"""A from-scratch Chainer SSD300 that computes what ChainerCV's SSD300 computes.

Public names match ChainerCV's (``chainercv.links.SSD300`` ->
``replicate.SSD300``), and so do parameter names, so ChainerCV .npz files load.

The paper's SSD300 is :mod:`replicate.ssd` (one file per idea). Beside it,
each importing it and never the other way round: :mod:`replicate.train`
(training), :mod:`replicate.odapi` (our port of the TF OD API's
SSD-MobileNetV2), :mod:`replicate.parity` (the layer-by-layer proof),
:mod:`replicate.bench` (speed), :mod:`replicate.datasets`,
:mod:`replicate.ort` (ONNX Runtime). Shared small modules: errors, compat,
npz, packaged, device, memory, tolerances. This package never imports
:mod:`compare` (the harness that drives it).
"""
# first: lets Chainer 7.8.1 import under numpy 2 (does nothing under numpy 1)
import replicate.compat  # noqa: F401  isort: skip
import importlib.util

from replicate.errors import InputError, PretrainedModelError, UserError, WeightsError  # noqa: F401

#: The public names, each imported from its module on first use (PEP 562), so
#: that ``from replicate import npz`` or ``replicate.errors`` (used by every
#: command before it parses its options) does not import Chainer.
_LAZY = {
    'replicate.ssd.coder': ('MultiboxCoder', 'default_box_counts', 'default_boxes'),
    'replicate.ssd.loss': ('multibox_loss',),
    'replicate.ssd.multibox': ('Multibox',),
    'replicate.ssd.nms': ('non_maximum_suppression',),
    'replicate.ssd.normalize': ('Normalize',),
    'replicate.ssd.ssd': ('SSD',),
    'replicate.ssd.ssd300': ('SSD300',),
    'replicate.ssd.ssd512': ('SSD512',),
    'replicate.ssd.vgg16': ('VGG16Extractor300', 'VGG16Extractor512'),
    'replicate.ssd.weights': ('load_weights', 'seeded_random_weights'),
    'replicate.train': ('GradientScaling', 'MultiboxTrainChain', 'encode_sample', 'freeze_base',
                        'random_crop_with_bbox_constraints', 'random_distort',
                        'resize_with_random_interpolation', 'train_steps'),
}
_HOME = {name: module for module, names in _LAZY.items() for name in names}
__all__ = sorted(['InputError', 'PretrainedModelError', 'UserError', 'WeightsError', *_HOME])


def __getattr__(name):
    """A public name from its module, or a subpackage (``replicate.train``)
    not imported yet: both on first use."""
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
    elif name.isidentifier() and not name.startswith('_') and \
            importlib.util.find_spec('replicate.' + name):
        value = importlib.import_module('replicate.' + name)
    else:
        raise AttributeError('module {!r} has no attribute {!r}'.format(__name__, name))
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOME))
