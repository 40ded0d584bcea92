"""multibox_loss against ChainerCV's on random inputs: values and gradients."""
import chainer
import numpy as np
import pytest
from chainercv.links.model.ssd import multibox_loss as cv_multibox_loss

from replicate import multibox_loss


def random_batch(rng, batch=2, n_box=500, n_class=5, positive_rate=0.05):
    locs = rng.normal(0, 1, (batch, n_box, 4)).astype(np.float32)
    confs = rng.normal(0, 2, (batch, n_box, n_class)).astype(np.float32)
    gt_locs = rng.normal(0, 1, (batch, n_box, 4)).astype(np.float32)
    labels = rng.integers(1, n_class, (batch, n_box)).astype(np.int32)
    labels[rng.uniform(size=(batch, n_box)) > positive_rate] = 0
    return locs, confs, gt_locs, labels


def losses_and_grads(fn, locs, confs, gt_locs, labels, k):
    locs, confs = chainer.Variable(locs.copy()), chainer.Variable(confs.copy())
    loc_loss, conf_loss = fn(locs, confs, gt_locs, labels, k)
    (loc_loss + conf_loss).backward()
    return loc_loss.array, conf_loss.array, locs.grad, confs.grad


@pytest.mark.parametrize('seed, k', [(0, 3), (1, 3), (2, 1), (3, 10)])
def test_equal_to_chainercv(seed, k):
    batch = random_batch(np.random.default_rng(seed))
    got = losses_and_grads(multibox_loss, *batch, k)
    expected = losses_and_grads(cv_multibox_loss, *batch, k)
    assert got[0] > 0 and got[1] > 0
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_by_hand_on_a_tiny_case():
    # one image, 4 boxes, 2 classes; box 0 positive (class 1), k = 1
    locs = np.array([[[0.5, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]],
                    np.float32)
    gt_locs = np.zeros_like(locs)
    gt_locs[0, 0, 1] = 2.0  # |d| = 2 -> smooth L1 = 1.5; |d| = 0.5 -> 0.125
    confs = np.array([[[0, 0], [0, 1], [0, 3], [0, -1]]], np.float32)
    labels = np.array([[1, 0, 0, 0]], np.int32)
    loc_loss, conf_loss = multibox_loss(locs, confs, gt_locs, labels, k=1)
    np.testing.assert_allclose(loc_loss.array, 0.125 + 1.5, rtol=1e-6)
    # positive: -log(1/2); hardest negative is box 2: -log(e^0 / (e^0 + e^3))
    expected = np.log(2) + np.log(1 + np.exp(3))
    np.testing.assert_allclose(conf_loss.array, expected, rtol=1e-6)


def test_no_positive_gives_zero():
    locs, confs, gt_locs, labels = random_batch(np.random.default_rng(0))
    loc_loss, conf_loss = multibox_loss(locs, confs, gt_locs, np.zeros_like(labels))
    assert loc_loss.array == 0 and conf_loss.array == 0
