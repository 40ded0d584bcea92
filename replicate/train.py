"""Training SSD300: targets for one sample, the loss as a chain, a frozen
base for changing the class set, and a minimal MomentumSGD loop.

The objective (Liu et al., 2016, eq. 1): L = (L_conf + alpha * L_loc) / N,
N the number of positive default boxes; see :func:`replicate.multibox_loss`.

No data augmentation here: ChainerCV's training example adds photometric
distortion, random expansion, random crop and flips before encoding; those
are out of scope. A sample is only resized to 300x300 and encoded.

Changing the class set (the paper's recipe, reused by ChainerCV): build
``SSD300(n_fg_class=K, pretrained_model='imagenet')`` (VGG-16 base trained on
ImageNet, everything else random), then train with ``freeze=True`` in
:func:`train_steps` to update only the SSD-specific layers, or without it to
fine-tune everything.
"""
import chainer
import numpy as np
from chainer.optimizer_hooks import WeightDecay

from replicate.errors import InputError
from replicate.loss import multibox_loss
from replicate.preprocess import check_images
from replicate.vgg16 import BASE_CONVS

#: Links of the extractor that come from VGG-16 (ImageNet weights). norm4
#: (ParseNet L2 normalisation with a learned scale) is not among them: it is
#: SSD's addition, absent from the ImageNet file, so it trains with the heads.
BASE_LINKS = tuple(name for name, _, _ in BASE_CONVS) + ('conv6', 'conv7')
#: Weight decay on weights, not biases: the Caffe SSD solver's, as in
#: ChainerCV's example (which also doubles bias gradients, Caffe's
#: ``lr_mult: 2``; not done here).
WEIGHT_DECAY = 5e-4
MOMENTUM = 0.9


def _check_boxes(bbox, label, n_fg_class):
    """Raise InputError unless bbox is (R, 4) and label (R,) in [0, n_fg_class)."""
    if bbox.ndim != 2 or bbox.shape[1] != 4:
        raise InputError('bbox has shape {}, expected (R, 4) (y_min, x_min, '
                         'y_max, x_max)'.format(bbox.shape))
    if label.shape != (len(bbox),):
        raise InputError('label has shape {}, expected ({},), one per box'.format(
            label.shape, len(bbox)))
    if len(label) and (label.min() < 0 or label.max() >= n_fg_class):
        raise InputError('labels must lie in [0, {}), got {}..{}'.format(
            n_fg_class, label.min(), label.max()))


def encode_sample(model, img, bbox, label):
    """One training sample -> network input and loss targets.

    Args:
        model: an :class:`replicate.SSD` (SSD300: insize 300, K = 8732).
        img: numpy (3, H, W) RGB image, values in [0, 255].
        bbox: float (R, 4) boxes (y_min, x_min, y_max, x_max) in ``img``'s
            pixels; R may be 0.
        label: int (R,) classes in [0, n_fg_class).

    Returns:
        (x, gt_mb_loc, gt_mb_label): float32 (3, insize, insize) prepared
        exactly as :meth:`SSD.predict` prepares images (resize, minus mean),
        float32 (K, 4) offsets (dy, dx, dh, dw) and int32 (K,) labels
        (0 = background), from ``model.coder.encode`` on the model's device.

    Raises:
        replicate.errors.InputError: bad image, boxes or labels.
    """
    check_images([img])
    bbox = np.asarray(bbox, dtype=np.float32)
    label = np.asarray(label, dtype=np.int32)
    _check_boxes(bbox, label, model.n_fg_class)
    height, width = img.shape[1:]
    # image pixels -> insize x insize input pixels, the frame the coder uses
    scale = np.array([model.insize / height, model.insize / width] * 2, np.float32)
    gt_mb_loc, gt_mb_label = model.coder.encode(
        model.device.send(bbox * scale), model.device.send(label))
    return model.device.send(model._prepare(img)), gt_mb_loc, gt_mb_label


class MultiboxTrainChain(chainer.Chain):
    """The SSD loss around a model, for ``optimizer.update(chain, ...)``.

    Args:
        model: an :class:`replicate.SSD`, registered as ``self.model``.
        alpha (float): weight of the localization loss.
        k (float): hard negatives per positive (Pos:Neg = 1:k).
    """

    def __init__(self, model, alpha=1, k=3):
        super().__init__()
        with self.init_scope():
            self.model = model
        self.alpha = alpha
        self.k = k

    def forward(self, x, gt_mb_locs, gt_mb_labels):
        """Loss of a batch; reports 'loss', 'loss/loc', 'loss/conf'.

        Args:
            x: float32 (B, 3, insize, insize) prepared images.
            gt_mb_locs: float32 (B, K, 4) and gt_mb_labels: int32 (B, K),
                stacked :func:`encode_sample` targets.

        Returns:
            float32 scalar Variable, ``conf_loss + alpha * loc_loss``.
        """
        mb_locs, mb_confs = self.model(x)
        loc_loss, conf_loss = multibox_loss(
            mb_locs, mb_confs, gt_mb_locs, gt_mb_labels, self.k)
        loss = conf_loss + self.alpha * loc_loss
        chainer.reporter.report(
            {'loss': loss, 'loss/loc': loc_loss, 'loss/conf': conf_loss}, self)
        return loss


def make_optimizer(chain, lr, momentum=MOMENTUM):
    """MomentumSGD on ``chain`` with :data:`WEIGHT_DECAY` on every parameter
    but the biases (``b``); norm4's ``scale`` is decayed, as in ChainerCV."""
    optimizer = chainer.optimizers.MomentumSGD(lr=lr, momentum=momentum)
    optimizer.setup(chain)
    for param in chain.params():
        if param.name != 'b':
            param.update_rule.add_hook(WeightDecay(WEIGHT_DECAY))
    return optimizer


def freeze_base(model):
    """Stop updates of the VGG-16 base (:data:`BASE_LINKS`) of ``model``.

    Only norm4, conv8_1 .. conv11_2 and the multibox heads keep training.
    Gradients still flow through the base (they are computed, not applied).
    Must follow ``optimizer.setup``, which replaces every update rule.

    Returns:
        list of str, the frozen links' names.

    Raises:
        ValueError: a base parameter has no update rule (no optimizer yet).
    """
    for name in BASE_LINKS:
        link = model.extractor[name]
        if any(param.update_rule is None for param in link.params()):
            raise ValueError('freeze_base: {} has no update rule; call it after '
                             'optimizer.setup(...)'.format(name))
        link.disable_update()
    return list(BASE_LINKS)


def _batch(encoded, index, xp):
    """Stack the encoded samples at ``index`` into (x, gt_mb_locs, gt_mb_labels)."""
    return tuple(xp.stack([encoded[i][part] for i in index]) for part in range(3))


def train_steps(model, samples, n_steps, lr, batch_size=1, seed=0, freeze=False,
                alpha=1, k=3):
    """Train ``model`` in place for ``n_steps`` MomentumSGD updates.

    Samples are encoded once (:func:`encode_sample`, no augmentation); each
    step draws ``batch_size`` distinct samples with ``np.random.default_rng
    (seed)``, so on CPU the run is deterministic given the model's weights.

    Args:
        model: an :class:`replicate.SSD`.
        samples: list of (img, bbox, label) as :func:`encode_sample` takes.
        n_steps (int), lr (float), batch_size (int, <= len(samples)), seed (int).
        freeze (bool): apply :func:`freeze_base` (train only SSD's own layers).
        alpha, k: see :class:`MultiboxTrainChain`.

    Returns:
        list of dict, one per step: 'loss', 'loss/loc', 'loss/conf' (floats)
        of the batch, computed before that step's update.
    """
    if not 1 <= batch_size <= len(samples):
        raise ValueError('batch_size must be in [1, {}], got {}'.format(
            len(samples), batch_size))
    encoded = [encode_sample(model, *sample) for sample in samples]
    chain = MultiboxTrainChain(model, alpha, k)
    optimizer = make_optimizer(chain, lr)
    if freeze:
        freeze_base(model)
    rng = np.random.default_rng(seed)
    reporter = chainer.Reporter()
    reporter.add_observer('main', chain)
    history = []
    for _ in range(n_steps):
        index = rng.choice(len(samples), batch_size, replace=False)
        observation = {}
        with reporter.scope(observation):
            optimizer.update(chain, *_batch(encoded, index, model.xp))
        history.append({key[len('main/'):]: float(value.array)
                        for key, value in observation.items()})
    return history
