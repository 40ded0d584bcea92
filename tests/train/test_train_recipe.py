"""The SSD300 recipe: one step's gradients equal those of ChainerCV's training
chain on the same batch, and the recipe's update equals ChainerCV's example
optimizer (MomentumSGD 0.9, GradientScaling(2) on biases, WeightDecay 5e-4)."""
import warnings

import chainer
import numpy as np
import pytest
from chainer.optimizer_hooks import WeightDecay

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    warnings.simplefilter('ignore', SyntaxWarning)
    import chainercv.links
    from chainercv.links.model.ssd import GradientScaling as CVGradientScaling
    from chainercv.links.model.ssd import multibox_loss as cv_multibox_loss

import replicate
from replicate.ssd.weights import param_keys, seeded_random_weights
from replicate.train import recipe


class ChainerCVTrainChain(chainer.Chain):
    """ChainerCV's examples/ssd/train.py MultiboxTrainChain (the reference)."""

    def __init__(self, model, alpha=1, k=3):
        super().__init__()
        with self.init_scope():
            self.model = model
        self.alpha, self.k = alpha, k

    def forward(self, imgs, gt_mb_locs, gt_mb_labels):
        mb_locs, mb_confs = self.model(imgs)
        loc_loss, conf_loss = cv_multibox_loss(mb_locs, mb_confs, gt_mb_locs, gt_mb_labels,
                                               self.k)
        return loc_loss * self.alpha + conf_loss


def chainercv_example_optimizer(chain, lr):
    optimizer = chainer.optimizers.MomentumSGD(lr=lr)
    optimizer.setup(chain)
    for param in chain.params():
        if param.name == 'b':
            param.update_rule.add_hook(CVGradientScaling(2))
        else:
            param.update_rule.add_hook(WeightDecay(0.0005))
    return optimizer


@pytest.fixture(scope='module')
def stepped(smooth_batch):
    """Both chains after one backward and one update on the same batch:
    (loss, grads, params after the update) for ours, then ChainerCV's."""
    ours = seeded_random_weights(replicate.SSD300(n_fg_class=3), seed=1)
    theirs = seeded_random_weights(chainercv.links.SSD300(n_fg_class=3), seed=1)
    out = []
    for chain, make in ((replicate.MultiboxTrainChain(ours), recipe.make_optimizer),
                        (ChainerCVTrainChain(theirs), chainercv_example_optimizer)):
        optimizer = make(chain, lr=1e-3)
        chain.cleargrads()
        loss = chain(*smooth_batch)
        loss.backward()
        grads = {k: p.grad.copy() for k, p in param_keys(chain.model).items()}
        optimizer.update()
        out.append((float(loss.array), grads,
                    {k: p.array.copy() for k, p in param_keys(chain.model).items()}))
    return out


@pytest.fixture(scope='module')
def smooth_batch():
    """One 300x300 sample with a box per source map's scale (30 .. 270 px),
    so that every head has positives: (x, gt_mb_locs, gt_mb_labels), batch 1."""
    model = replicate.SSD300(n_fg_class=3)
    img = np.random.default_rng(0).uniform(0, 255, (3, 300, 300)).astype(np.float32)
    bbox = np.array([[0, 0, 30, 30], [0, 40, 60, 100], [0, 110, 110, 220],
                     [120, 0, 280, 160], [80, 80, 295, 295], [15, 15, 285, 285]], np.float32)
    label = np.array([0, 1, 2, 0, 1, 2], np.int32)
    return tuple(a[None] for a in replicate.encode_sample(model, img, bbox, label))


def test_one_step_gradients_equal_chainercv(stepped):
    (loss, grads, _), (cv_loss, cv_grads, _) = stepped
    assert loss == pytest.approx(cv_loss, rel=1e-6) and loss > 0
    assert grads.keys() == cv_grads.keys() and len(grads) == 71
    for key, grad in grads.items():
        scale = max(np.abs(cv_grads[key]).max(), 1e-30)
        np.testing.assert_allclose(grad, cv_grads[key], rtol=1e-6, atol=1e-6 * scale,
                                   err_msg=key)
    # positives on every map: every parameter has a gradient
    assert all(np.abs(g).max() > 0 for g in grads.values())


def test_recipe_update_equals_chainercv_example(stepped):
    (_, _, params), (_, _, cv_params) = stepped
    for key, value in params.items():
        np.testing.assert_allclose(value, cv_params[key], rtol=1e-6, atol=1e-9, err_msg=key)


def test_recipe_hooks():
    chain = replicate.MultiboxTrainChain(replicate.SSD300(n_fg_class=2))
    optimizer = recipe.make_optimizer(chain)
    assert (optimizer.lr, optimizer.momentum) == (1e-3, 0.9)
    for name, param in chain.namedparams():
        hooks = param.update_rule._hookable._pre_update_hooks
        if name.endswith('/b'):
            assert [h.rate for h in hooks.values()] == [2], name
        else:
            assert [h.rate for h in hooks.values()] == [5e-4], name
    assert (recipe.BATCH_SIZE, recipe.LR_STEPS, recipe.ITERATIONS) == (32, (80000, 100000),
                                                                       120000)
