"""The SSD loss around a model, as a chain an optimizer can update."""
import chainer

from replicate.ssd.loss import multibox_loss


class MultiboxTrainChain(chainer.Chain):
    """The SSD loss around a model, for ``optimizer.update(chain, ...)``.

    The objective (Liu et al., 2016, eq. 1): L = (L_conf + alpha * L_loc) / N,
    N the number of positive default boxes; see :func:`replicate.multibox_loss`.

    Args:
        model: an :class:`replicate.SSD`, registered as ``self.model``.
        alpha (float): weight of the localization loss.
        k (float): hard negatives per positive (Pos:Neg = 1:k).
        comm: optional ChainerMN communicator; N is then averaged over workers
            (as in ChainerCV's multi-GPU example).
    """

    def __init__(self, model, alpha=1, k=3, comm=None):
        super().__init__()
        with self.init_scope():
            self.model = model
        self.alpha = alpha
        self.k = k
        self.comm = comm

    def forward(self, x, gt_mb_locs, gt_mb_labels):
        """Loss of a batch; reports 'loss', 'loss/loc', 'loss/conf'.

        Args:
            x: float32 (B, 3, insize, insize) prepared images.
            gt_mb_locs: float32 (B, K, 4) and gt_mb_labels: int32 (B, K),
                stacked :func:`replicate.encode_sample` targets.

        Returns:
            float32 scalar Variable, ``conf_loss + alpha * loc_loss``.
        """
        mb_locs, mb_confs = self.model(x)
        loc_loss, conf_loss = multibox_loss(
            mb_locs, mb_confs, gt_mb_locs, gt_mb_labels, self.k, self.comm)
        loss = conf_loss + self.alpha * loc_loss
        chainer.reporter.report(
            {'loss': loss, 'loss/loc': loc_loss, 'loss/conf': conf_loss}, self)
        return loss
