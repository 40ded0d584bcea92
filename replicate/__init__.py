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
from replicate.errors import InputError, PretrainedModelError, UserError, WeightsError  # noqa: F401
from replicate.ssd.coder import MultiboxCoder, default_box_counts, default_boxes  # noqa: F401
from replicate.ssd.loss import multibox_loss  # noqa: F401
from replicate.ssd.multibox import Multibox  # noqa: F401
from replicate.ssd.nms import non_maximum_suppression  # noqa: F401
from replicate.ssd.normalize import Normalize  # noqa: F401
from replicate.ssd.ssd import SSD  # noqa: F401
from replicate.ssd.ssd300 import SSD300  # noqa: F401
from replicate.ssd.ssd512 import SSD512  # noqa: F401
from replicate.ssd.vgg16 import VGG16Extractor300, VGG16Extractor512  # noqa: F401
from replicate.ssd.weights import load_weights, seeded_random_weights  # noqa: F401
from replicate.train import (  # noqa: F401
    GradientScaling,
    MultiboxTrainChain,
    encode_sample,
    freeze_base,
    random_crop_with_bbox_constraints,
    random_distort,
    resize_with_random_interpolation,
    train_steps,
)
