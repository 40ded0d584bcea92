"""SSD300: the builder that fixes the paper's numbers for 300x300 inputs."""
import numpy as np

from replicate.ssd.coder import MultiboxCoder
from replicate.ssd.multibox import Multibox
from replicate.ssd.pretrained import PRETRAINED
from replicate.ssd.ssd import SSD
from replicate.ssd.vgg16 import VGG16Extractor300
from replicate.ssd.weights import load_pretrained

#: Per source map (38, 19, 10, 5, 3, 1): 4, 6, 6, 6, 4, 4 boxes per location.
ASPECT_RATIOS = ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))
#: Pixels between neighbouring default box centers on each map.
STEPS = (8, 16, 32, 64, 100, 300)
#: Default box sizes in input pixels; map k uses sizes k and k + 1.
SIZES = (30, 60, 111, 162, 213, 264, 315)
VARIANCE = (0.1, 0.2)
#: ImageNet mean, RGB, (3, 1, 1).
MEAN = np.array((123, 117, 104), dtype=np.float32).reshape(3, 1, 1)


def ssd300_coder():
    """SSD300's box coder, without building a model: the one its model builds
    (:class:`replicate.ssd.coder.MultiboxCoder` from the extractor's grids,
    :data:`ASPECT_RATIOS`, :data:`STEPS`, :data:`SIZES`, :data:`VARIANCE`;
    default boxes equal to ChainerCV's), e.g. to decode kept network outputs."""
    return MultiboxCoder(VGG16Extractor300.grids, ASPECT_RATIOS, STEPS, SIZES, VARIANCE)


def _n_fg_class(n_fg_class, pretrained_model, table=PRETRAINED):
    """Resolve n_fg_class against a named pretrained model of ``table``
    (ChainerCV's rules)."""
    required = table[pretrained_model].n_fg_class \
        if pretrained_model in table else None
    if required is not None and n_fg_class not in (None, required):
        raise ValueError('pretrained_model={!r} has n_fg_class={}, got {}'.format(
            pretrained_model, required, n_fg_class))
    n_fg_class = n_fg_class or required
    if n_fg_class is None:
        raise ValueError('n_fg_class is required with pretrained_model={!r}'.format(
            pretrained_model))
    return n_fg_class


class SSD300(SSD):
    """SSD with a VGG-16 extractor for 300x300 inputs: 8732 default boxes.

    Same constructor, parameter names and outputs as
    ``chainercv.links.SSD300``; only this builder subclasses :class:`SSD`.

    Args:
        n_fg_class (int): classes without the background; 20 or None with
            'voc0712', required otherwise.
        pretrained_model (str or None): 'voc0712' (all weights), 'imagenet'
            (VGG-16 base only; the rest keeps its random initialisation), a
            path to an .npz, or None. Named files come from ChainerCV's cache
            (see :mod:`replicate.ssd.pretrained`) or are downloaded.
        resize_backend (str or None): None (the default) follows
            ``chainer.config.cv_resize_backend`` as ChainerCV does; 'cv2' or
            'PIL' fixes the backend (see :class:`replicate.SSD`).

    Where ours deliberately differs from ChainerCV's: every weight file is
    loaded strictly (:func:`replicate.load_weights`: a missing, unexpected or
    misshapen key is an error, where ChainerCV's ``load_npz(strict=False)``
    skips missing keys silently; 'imagenet' may lack exactly the layers it has
    no weights for), a file holding pickled objects is refused unread
    (ChainerCV unpickles it), and an unknown ``chainer.config.cv_resize_backend``
    is a ValueError.

    Raises:
        ValueError: bad n_fg_class; replicate.errors.PretrainedModelError: a
        named file is not cached and cannot be downloaded;
        replicate.errors.WeightsError: the file does not fit the model.
    """

    def __init__(self, n_fg_class=None, pretrained_model=None, resize_backend=None):
        n_fg_class = _n_fg_class(n_fg_class, pretrained_model)
        extractor = VGG16Extractor300()
        multibox = Multibox(n_fg_class + 1, ASPECT_RATIOS, extractor.channels)
        super().__init__(extractor, multibox, STEPS, SIZES, VARIANCE, MEAN, resize_backend)
        if pretrained_model:
            load_pretrained(self, pretrained_model)
