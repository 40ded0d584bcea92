"""Training: sample encoding, the loss chain, the frozen base, and a loss that
goes down. One SSD300 step (forward + backward) costs ~3.5 s on 2 CPU cores,
so the run is short: 5 steps on one image, shared by the last tests."""
import warnings

import chainer
import numpy as np
import pytest

import replicate
from replicate.ssd.ssd300 import ASPECT_RATIOS, MEAN, SIZES, STEPS, VARIANCE
from replicate.ssd.vgg16 import VGG16Extractor300
from replicate.ssd.weights import param_keys, seeded_random_weights
from replicate.train import BASE_LINKS, make_optimizer

with warnings.catch_warnings():
    # ChainerCV's docstrings have invalid escapes
    warnings.simplefilter('ignore', SyntaxWarning)
    warnings.simplefilter('ignore', DeprecationWarning)
    import chainercv.transforms
    from chainercv.links.model.ssd import MultiboxCoder as CVMultiboxCoder
    from chainercv.links.model.ssd import multibox_loss as cv_multibox_loss


VGG16_GRIDS = VGG16Extractor300.grids


def rect_image(seed, height, width, bbox):
    """Dark noise with a bright rectangle per box: float32 (3, height, width).

    bbox: int (R, 4) (y_min, x_min, y_max, x_max) in pixels.
    """
    img = np.random.default_rng(seed).uniform(0, 60, (3, height, width))
    for y_min, x_min, y_max, x_max in bbox:
        img[:, y_min:y_max, x_min:x_max] = 230
    return img.astype(np.float32)


def seeded_model():
    return seeded_random_weights(replicate.SSD300(n_fg_class=2), seed=0)


@pytest.fixture(scope='module')
def model():
    """A seeded model that no test trains."""
    return seeded_model()


# a 200x400 image with two boxes of classes 0 and 1
BBOX = np.array([[20, 40, 120, 200], [100, 250, 190, 390]])
LABEL = np.array([0, 1], np.int32)


def test_encode_sample_matches_coder_on_hand_scaled_boxes(model):
    img = rect_image(0, 200, 400, BBOX)
    x, gt_loc, gt_label = replicate.encode_sample(model, img, BBOX, LABEL)
    assert (x.dtype, x.shape) == (np.float32, (3, 300, 300))
    assert (gt_loc.dtype, gt_loc.shape) == (np.float32, (8732, 4))
    assert (gt_label.dtype, gt_label.shape) == (np.int32, (8732,))
    # 200x400 -> 300x300: y times 1.5, x times 0.75
    scaled = (BBOX * np.array([1.5, 0.75, 1.5, 0.75])).astype(np.float32)
    want_loc, want_label = model.coder.encode(scaled, LABEL)
    np.testing.assert_array_equal(gt_loc, want_loc)
    np.testing.assert_array_equal(gt_label, want_label)
    cv_coder = CVMultiboxCoder(VGG16_GRIDS, ASPECT_RATIOS, STEPS, SIZES, VARIANCE)
    cv_loc, cv_label = cv_coder.encode(scaled, LABEL)
    np.testing.assert_allclose(gt_loc, cv_loc, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(gt_label, cv_label)


def test_encode_sample_positives_decode_to_their_box(model):
    img = rect_image(0, 200, 400, BBOX)
    _, gt_loc, gt_label = replicate.encode_sample(model, img, BBOX, LABEL)
    decoded = model.coder.decode_boxes(gt_loc)
    scaled = BBOX * np.array([1.5, 0.75, 1.5, 0.75])
    for box, label in zip(scaled, LABEL, strict=True):
        positive = gt_label == label + 1
        assert positive.sum() >= 1
        np.testing.assert_allclose(decoded[positive], np.tile(box, (positive.sum(), 1)),
                                   atol=1e-3)
    assert set(np.unique(gt_label)) == {0, 1, 2}


def test_encode_sample_input_is_what_chainercv_prepares(model):
    img = rect_image(1, 200, 400, BBOX)
    x, _, _ = replicate.encode_sample(model, img, BBOX, LABEL)
    want = chainercv.transforms.resize(img, (300, 300)) - MEAN
    np.testing.assert_array_equal(x, want)
    np.testing.assert_array_equal(x, model._prepare(img))


def test_encode_sample_without_boxes_is_all_background(model):
    img = rect_image(2, 300, 300, [])
    _, gt_loc, gt_label = replicate.encode_sample(
        model, img, np.zeros((0, 4)), np.zeros(0, np.int32))
    assert not gt_label.any() and not gt_loc.any()


@pytest.mark.parametrize('bbox, label, message', [
    (np.zeros((1, 3)), [0], r'expected \(R, 4\)'),
    (np.zeros((2, 4)), [0], 'one per box'),
    (np.zeros((1, 4)), [2], r'\[0, 2\)'),
])
def test_encode_sample_rejects_bad_boxes(model, bbox, label, message):
    with pytest.raises(replicate.InputError, match=message):
        replicate.encode_sample(model, rect_image(0, 30, 30, []), bbox, label)


@pytest.fixture(scope='module')
def batch(model):
    """One encoded 300x300 sample as a batch of 1: (x, gt_mb_locs, gt_mb_labels)."""
    bbox = np.array([[40, 60, 160, 200]])
    encoded = replicate.encode_sample(model, rect_image(3, 300, 300, bbox), bbox, [0])
    return tuple(array[None] for array in encoded)


def test_train_chain_loss_equals_multibox_loss(model, batch):
    chain = replicate.MultiboxTrainChain(model, alpha=2, k=3)
    reporter, observation = chainer.Reporter(), {}
    reporter.add_observer('main', chain)
    with reporter.scope(observation):
        loss = chain(*batch)
    mb_locs, mb_confs = model(batch[0])
    for loss_fn in (replicate.multibox_loss, cv_multibox_loss):
        loc_loss, conf_loss = loss_fn(mb_locs, mb_confs, *batch[1:], 3)
        np.testing.assert_allclose(loss.array, conf_loss.array + 2 * loc_loss.array,
                                   rtol=1e-6)
        np.testing.assert_allclose(observation['main/loss'].array, loss.array, rtol=1e-6)
        np.testing.assert_allclose(observation['main/loss/loc'].array, loc_loss.array, rtol=1e-6)
        np.testing.assert_allclose(observation['main/loss/conf'].array, conf_loss.array,
                                   rtol=1e-6)
    assert loss.dtype == np.float32 and loss.array > 0


def test_freeze_base_needs_an_optimizer_first():
    model = replicate.SSD300(n_fg_class=2)
    with pytest.raises(ValueError, match='after optimizer.setup'):
        replicate.freeze_base(model)


def test_freeze_base_disables_exactly_the_base():
    model = replicate.SSD300(n_fg_class=2)
    make_optimizer(replicate.MultiboxTrainChain(model), lr=0.1)
    assert replicate.freeze_base(model) == list(BASE_LINKS)
    enabled = {key: param.update_rule.enabled for key, param in param_keys(model).items()}
    base = tuple('extractor/{}/'.format(name) for name in BASE_LINKS)
    assert all(not on for key, on in enabled.items() if key.startswith(base))
    assert all(on for key, on in enabled.items() if not key.startswith(base))
    assert enabled['extractor/norm4/scale'] and enabled['extractor/conv8_1/W']


# lr tuned on this case: 17.0 -> 7.0 in 5 steps (frozen base, seed 0)
N_STEPS, LR = 5, 1e-4


@pytest.fixture(scope='module')
def trained():
    """(params before, params after, loss history) of a frozen-base run."""
    model = seeded_model()
    before = {key: param.array.copy() for key, param in param_keys(model).items()}
    bbox = np.array([[40, 60, 160, 200]])
    samples = [(rect_image(3, 300, 300, bbox), bbox, np.array([0], np.int32))]
    history = replicate.train_steps(model, samples, N_STEPS, LR, seed=0, freeze=True)
    after = {key: param.array for key, param in param_keys(model).items()}
    return before, after, history


@pytest.mark.slow  # five SSD300 steps, 20 s; test_train_cli.py has a loss test
def test_loss_goes_down(trained):
    losses = [step['loss'] for step in trained[2]]
    assert len(losses) == N_STEPS
    assert (np.diff(losses) < 0).all(), losses
    assert losses[-1] < 0.6 * losses[0], losses


@pytest.mark.slow  # five SSD300 steps, 20 s; test_train_cli.py has a loss test
def test_first_step_loss_is_the_chain_loss(trained, batch):
    # the same seeded model and sample, before any update
    loss = replicate.MultiboxTrainChain(seeded_model())(*batch)
    np.testing.assert_allclose(trained[2][0]['loss'], loss.array, rtol=1e-5)
    step = trained[2][0]
    np.testing.assert_allclose(step['loss'], step['loss/conf'] + step['loss/loc'], rtol=1e-6)


@pytest.mark.slow  # five SSD300 steps, 20 s; test_train_cli.py has a loss test
def test_frozen_base_is_unchanged_and_the_rest_trained(trained, batch):
    before, after, _ = trained
    base = tuple('extractor/{}/'.format(name) for name in BASE_LINKS)
    changed = {key for key in before if not np.array_equal(after[key], before[key])}
    assert not {key for key in changed if key.startswith(base)}
    # weights change at least by weight decay; biases only by their gradient
    weights = {key for key in before if not key.startswith(base) and not key.endswith('/b')}
    assert weights <= changed
    assert 'extractor/norm4/scale' in changed and 'extractor/conv8_1/b' in changed
    # the heads of every map holding a positive (sample: same image as trained)
    ends = np.cumsum(replicate.default_box_counts(VGG16_GRIDS, ASPECT_RATIOS))
    maps = {int(np.searchsorted(ends, i, side='right')) for i in np.flatnonzero(batch[2][0])}
    assert maps
    for m in maps:
        assert {'multibox/loc/{}/b'.format(m), 'multibox/conf/{}/b'.format(m)} <= changed
