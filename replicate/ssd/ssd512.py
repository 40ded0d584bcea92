"""SSD512: the paper's second configuration (512x512 inputs, 24564 default
boxes on seven maps), with ChainerCV's parameter names so its npz files load."""
from replicate.ssd.multibox import Multibox
from replicate.ssd.pretrained import PRETRAINED, PretrainedFile
from replicate.ssd.ssd import SSD
from replicate.ssd.ssd300 import MEAN, VARIANCE, _n_fg_class
from replicate.ssd.vgg16 import VGG16Extractor512
from replicate.ssd.weights import load_pretrained

#: Per source map (64, 32, 16, 8, 4, 2, 1): 4, 6, 6, 6, 6, 4, 4 boxes per location.
ASPECT_RATIOS = ((2,), (2, 3), (2, 3), (2, 3), (2, 3), (2,), (2,))
STEPS = (8, 16, 32, 64, 128, 256, 512)
#: From the paper's scale rule (see :func:`replicate.ssd.geometry.ssd_sizes`):
#: 7% of 512 first, then 15% .. 90% in steps of 15%, plus 105%.
SIZES = (35.84, 76.8, 153.6, 230.4, 307.2, 384.0, 460.8, 537.6)

#: Named files for SSD512 (the ImageNet base is SSD300's file).
PRETRAINED_512 = {
    'voc0712': PretrainedFile('ssd512_voc0712_converted_2017_06_06.npz', n_fg_class=20),
    'imagenet': PRETRAINED['imagenet'],
}


class SSD512(SSD):
    """SSD with a VGG-16 extractor for 512x512 inputs: 24564 default boxes.

    Same constructor, parameter names and outputs as
    ``chainercv.links.SSD512``; arguments as :class:`replicate.SSD300`
    ('voc0712' is ``ssd512_voc0712_converted_2017_06_06.npz``).
    """

    def __init__(self, n_fg_class=None, pretrained_model=None, resize_backend=None):
        n_fg_class = _n_fg_class(n_fg_class, pretrained_model, PRETRAINED_512)
        extractor = VGG16Extractor512()
        multibox = Multibox(n_fg_class + 1, ASPECT_RATIOS, extractor.channels)
        super().__init__(extractor, multibox, STEPS, SIZES, VARIANCE, MEAN, resize_backend)
        if pretrained_model:
            load_pretrained(self, pretrained_model, PRETRAINED_512)
