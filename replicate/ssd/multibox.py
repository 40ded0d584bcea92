"""The multibox head: per source map a 3x3 loc conv and a 3x3 conf conv."""
import chainer
import chainer.functions as F
from chainer import initializers

from replicate.ssd.channels_last import Convolution2D
from replicate.ssd.coder import boxes_per_location


class Multibox(chainer.Chain):
    """Predicts box offsets and class logits for every default box.

    Args:
        n_class (int): classes including the background (n_fg_class + 1).
        aspect_ratios (tuple of tuple of int): per source map, e.g. SSD300's
            ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,)).
        in_channels (tuple of int or None): channels of each source map; None
            builds lazy convolutions like ChainerCV's.
        initialW, initial_bias: initializers (default LeCun uniform, zero).

    Parameters (ChainerCV's names): ``loc/k/W`` (n_k*4, C_k, 3, 3),
    ``conf/k/W`` (n_k*n_class, C_k, 3, 3) and their biases, with n_k from
    :func:`replicate.ssd.coder.boxes_per_location`.
    """

    def __init__(self, n_class, aspect_ratios, in_channels=None,
                 initialW=None, initial_bias=None):
        super().__init__()
        self.n_class = n_class
        self.aspect_ratios = aspect_ratios
        if in_channels is None:
            in_channels = (None,) * len(aspect_ratios)
        init = {'initialW': initialW or initializers.LeCunUniform(),
                'initial_bias': initial_bias or initializers.Zero()}
        with self.init_scope():
            self.loc = chainer.ChainList()
            self.conf = chainer.ChainList()
        for n_in, n_box in zip(in_channels, boxes_per_location(aspect_ratios), strict=True):
            self.loc.add_link(Convolution2D(n_in, n_box * 4, 3, pad=1, **init))
            self.conf.add_link(
                Convolution2D(n_in, n_box * n_class, 3, pad=1, **init))

    @staticmethod
    def _flatten(y, n_per_box):
        """(B, n*K, G, G) -> (B, G*G*n, K): boxes ordered by row, column, box."""
        # (B, n*K, G, G) -> (B, G, G, n*K): channels last
        y = F.transpose(y, (0, 2, 3, 1))
        # (B, G, G, n*K) -> (B, G*G*n, K)
        return F.reshape(y, (y.shape[0], -1, n_per_box))

    def forward(self, xs):
        """Compute the head outputs for all default boxes.

        Args:
            xs: list of source maps, float32 (B, C_k, G_k, G_k).

        Returns:
            (mb_locs, mb_confs): Variables, float32 (B, K, 4) holding
            (dy, dx, dh, dw) and float32 (B, K, n_class) logits, where boxes
            are ordered by map, then row, column, box (K = 8732 for SSD300),
            the order of :class:`replicate.MultiboxCoder`'s default boxes.
        """
        locs = [self._flatten(self.loc[k](x), 4) for k, x in enumerate(xs)]
        confs = [self._flatten(self.conf[k](x), self.n_class)
                 for k, x in enumerate(xs)]
        return F.concat(locs, axis=1), F.concat(confs, axis=1)
