"""L2 normalisation across channels with a learnable per-channel scale
(ParseNet; SSD applies it to conv4_3)."""
import chainer
import chainer.functions as F
from chainer import initializers


class Normalize(chainer.Link):
    """``y[b, c, h, w] = scale[c] * x[b, c, h, w] / ||x[b, :, h, w]||``.

    The norm is Chainer's ``F.normalize`` (``sqrt(sum x^2) + eps``), the same
    function ChainerCV uses, so the arithmetic is identical.

    Args:
        n_channel (int): number of channels C.
        initial (float or initializer): initial value of ``scale``; SSD uses 20.
        eps (float): added to the norm to avoid division by zero (1e-5).

    Parameters:
        scale: float32 array of shape (C,).
    """

    def __init__(self, n_channel, initial=0, eps=1e-5):
        super().__init__()
        self.eps = eps
        with self.init_scope():
            self.scale = chainer.Parameter(
                initializers._get_initializer(initial), (n_channel,))

    def forward(self, x):
        """x: float32 (B, C, H, W) -> float32 (B, C, H, W)."""
        x = F.normalize(x, eps=self.eps, axis=1)
        # (C,) -> (1, C, 1, 1) -> (B, C, H, W)
        scale = F.broadcast_to(F.reshape(self.scale, (1, -1, 1, 1)), x.shape)
        return x * scale
