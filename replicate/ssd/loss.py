"""The SSD training loss (Liu et al., 2016, eq. 1-3)."""
import chainer
import chainer.functions as F
import numpy as np
from chainer.backends import cuda


def hard_negatives(conf_loss, positive, k):
    """Negatives with the largest confidence loss, k per positive per image.

    Args:
        conf_loss: float (B, K) per-box cross entropy; positive: bool (B, K).

    Returns:
        bool (B, K), True for the mined negatives (never a positive).
    """
    # positives get loss 0 here, negatives -loss, so the hardest sort first
    negated = conf_loss * (positive - 1)
    rank = negated.argsort(axis=1).argsort(axis=1)
    return rank < (positive.sum(axis=1) * k)[:, None]


def multibox_loss(mb_locs, mb_confs, gt_mb_locs, gt_mb_labels, k=3, comm=None):
    """Localization and confidence losses, each divided by N (positives).

    L_loc = sum over positives of smooth L1(mb_locs - gt_mb_locs) / N;
    L_conf = softmax cross entropy over positives and the hard negatives
    (Pos:Neg = 1:k, mined per image) / N. The paper's L is
    ``(L_conf + alpha * L_loc)``, i.e. ``conf_loss + alpha * loc_loss`` here.

    Args:
        mb_locs: float32 (B, K, 4) predicted offsets (Variable or array).
        mb_confs: float32 (B, K, n_class) logits, class 0 = background.
        gt_mb_locs: float32 (B, K, 4) targets from ``MultiboxCoder.encode``.
        gt_mb_labels: int32 (B, K), 0 = background.
        k (float): negatives per positive.
        comm: optional ChainerMN communicator; N is then averaged over workers.

    Returns:
        (loc_loss, conf_loss): float32 scalar Variables; both 0 when there is
        no positive in the batch.
    """
    labels = chainer.as_variable(gt_mb_labels).array
    xp = cuda.get_array_module(labels)
    positive = labels > 0
    n_positive = positive.sum()
    if comm is not None:
        n_positive = comm.allreduce_obj(n_positive) / comm.size
    if n_positive == 0:
        zero = chainer.Variable(xp.zeros((), dtype=np.float32))
        return zero, zero
    loc = F.sum(F.huber_loss(mb_locs, gt_mb_locs, 1, reduce='no'), axis=-1)
    loc_loss = F.sum(loc * positive.astype(loc.dtype)) / n_positive
    n_class = mb_confs.shape[-1]
    # (B, K, n_class) -> (B*K, n_class) for the cross entropy, and back
    conf = F.softmax_cross_entropy(
        F.reshape(mb_confs, (-1, n_class)), labels.ravel(), reduce='no')
    conf = F.reshape(conf, labels.shape)
    mined = xp.logical_or(positive, hard_negatives(conf.array, positive, k))
    conf_loss = F.sum(conf * mined.astype(conf.dtype)) / n_positive
    return loc_loss, conf_loss
