"""A tiny SSD for API tests, as ChainerCV's own SSD tests use a dummy
extractor: 32x32 input, three source maps, 92 default boxes, a forward in
milliseconds."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from replicate import SSD, Multibox
from replicate.ssd.weights import seeded_random_weights


class TinyExtractor(chainer.Chain):
    """A 32x32-input extractor with three source maps of 4x4, 2x2 and 1x1."""
    insize = 32
    grids = (4, 2, 1)
    channels = (6, 6, 6)

    def __init__(self):
        super().__init__()
        with self.init_scope():
            # 32 -> 4 cells: one 8x8 stride-8 convolution
            self.conv = L.Convolution2D(3, 6, 8, stride=8)

    def forward(self, x):
        """float32 (B, 3, 32, 32) -> [(B, 6, 4, 4), (B, 6, 2, 2), (B, 6, 1, 1)]."""
        h = F.relu(self.conv(x))
        return [h, F.average_pooling_2d(h, 2), F.average_pooling_2d(h, 4)]


def tiny_ssd(n_fg_class=3, seed=0, resize_backend=None):
    """An SSD with :class:`TinyExtractor`: 4*16 + 6*4 + 4 = 92 default boxes,
    seeded weights (``seeded_random_weights``)."""
    extractor = TinyExtractor()
    multibox = Multibox(n_fg_class + 1, ((2,), (2, 3), (2,)), extractor.channels)
    model = SSD(extractor, multibox, steps=(8, 16, 32), sizes=(4, 10, 20, 32),
                mean=np.array((120, 110, 100), np.float32).reshape(3, 1, 1),
                resize_backend=resize_backend)
    return seeded_random_weights(model, seed=seed)
