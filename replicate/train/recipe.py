"""The SSD300 training recipe (Liu et al., 2016; ChainerCV's
``examples/ssd/train.py``) as defaults, and the frozen base for a new class set.

MomentumSGD 0.9, learning rate 1e-3 divided by 10 at iterations 80k and 100k of
120k, batch 32; weight decay 5e-4 on every parameter but the biases, whose
gradient is doubled instead (:class:`GradientScaling` (2): Caffe's
``lr_mult: 2``). norm4's ``scale`` (the learned L2-normalisation scale) is not
a bias: it is decayed like the weights, as in ChainerCV's example.

Changing the class set (the paper's recipe, reused by ChainerCV): start from a
VGG-16 base trained on ImageNet (or a full SSD npz), new class heads, then
train with the base frozen (:func:`freeze_base`) to update only the
SSD-specific layers, or without it to fine-tune everything.
"""
import chainer
from chainer.optimizer_hooks import WeightDecay

from replicate.ssd.vgg16 import BASE_LINKS
from replicate.train.gradient_scaling import GradientScaling

MOMENTUM = 0.9
LR = 1e-3
#: Iterations at which the learning rate is multiplied by :data:`LR_FACTOR`.
LR_STEPS = (80000, 100000)
LR_FACTOR = 0.1
ITERATIONS = 120000
BATCH_SIZE = 32
#: Weight decay on weights (and norm4's scale), not biases.
WEIGHT_DECAY = 5e-4
#: Bias gradients are multiplied by this (twice the learning rate).
BIAS_GRADIENT_SCALE = 2

__all__ = ['BASE_LINKS', 'make_optimizer', 'freeze_base', 'base_links']


def make_optimizer(chain, lr=LR, momentum=MOMENTUM, comm=None):
    """MomentumSGD set up on ``chain`` with the recipe's per-parameter hooks.

    Args:
        chain: the chain to optimize (e.g. a :class:`MultiboxTrainChain`).
        lr (float), momentum (float): MomentumSGD's.
        comm: optional ChainerMN communicator: the optimizer then averages
            gradients over workers (``create_multi_node_optimizer``).

    Returns:
        the optimizer: ``WeightDecay(5e-4)`` on every parameter except those
        named ``b``, which get ``GradientScaling(2)``.
    """
    optimizer = chainer.optimizers.MomentumSGD(lr=lr, momentum=momentum)
    if comm is not None:
        import chainermn
        optimizer = chainermn.create_multi_node_optimizer(optimizer, comm)
    optimizer.setup(chain)
    for param in chain.params():
        if param.name == 'b':
            param.update_rule.add_hook(GradientScaling(BIAS_GRADIENT_SCALE))
        else:
            param.update_rule.add_hook(WeightDecay(WEIGHT_DECAY))
    if comm is not None:
        # ChainerMN's optimizer spends its first update() broadcasting rank
        # 0's parameters instead of updating; do that here, so that every
        # update() updates (also the first one after a resume)
        comm.bcast_data(chain)
        optimizer.is_changed(chain)
    return optimizer


def base_links(model):
    """Names of the extractor links that form the pretrained base of ``model``:
    ``model.extractor.base_links`` (VGG-16: :data:`BASE_LINKS`)."""
    return tuple(getattr(model.extractor, 'base_links', BASE_LINKS))


def freeze_base(model):
    """Stop updates of the base (:func:`base_links`) of ``model``.

    For VGG-16 only norm4, conv8_1 .. conv11_2 (conv12_2 for SSD512) and the
    multibox heads keep training. Gradients still flow through the base (they
    are computed, not applied). Must follow ``optimizer.setup``, which replaces
    every update rule.

    Returns:
        list of str, the frozen links' names.

    Raises:
        ValueError: a base parameter has no update rule (no optimizer yet).
    """
    names = base_links(model)
    for name in names:
        link = model.extractor[name]
        if any(param.update_rule is None for param in link.params()):
            raise ValueError('freeze_base: {} has no update rule; call it after '
                             'optimizer.setup(...)'.format(name))
        link.disable_update()
    return list(names)
