"""The port trains through replicate.train's pieces (SSD's multibox loss on
targets from the OD API's coder and matcher), with its MobileNetV2 base frozen
(the training command on an export: test_odapi_finetune.py)."""
import numpy as np
import pytest

import replicate.train
from replicate.train import MultiboxTrainChain, encode_sample

pytestmark = pytest.mark.tf  # the weights come from the real export


def _samples(rng):
    samples = []
    for _ in range(2):
        img = rng.uniform(0, 255, (3, 100, 140)).astype(np.float32)
        bbox = np.array([[10, 20, 60, 90], [40, 70, 95, 135]], np.float32)
        samples.append((img, bbox, np.array([0, 2], np.int32)))
    return samples


def test_encode_sample_gives_targets_for_every_anchor(model_copy):
    x, locs, labels = encode_sample(model_copy, *_samples(np.random.default_rng(0))[0])
    assert x.shape == (3, 128, 128) and locs.shape == (330, 4) and labels.shape == (330,)
    assert set(np.unique(labels)) >= {0, 1, 3}  # background, class 0 + 1, class 2 + 1
    assert np.abs(locs[labels == 0]).max() == 0


def test_a_few_steps_with_the_base_frozen_reduce_the_loss(model_copy):
    model = model_copy
    encoded = [encode_sample(model, *s) for s in _samples(np.random.default_rng(1))]
    batch = [np.stack([e[part] for e in encoded]) for part in range(3)]
    chain = MultiboxTrainChain(model)
    optimizer = replicate.train.make_optimizer(chain, 1e-3)
    for name in model.extractor.base_links:  # what replicate.train freezes
        model.extractor[name].disable_update()
    base = {k: p.array.copy() for k, p in model.extractor.base.namedparams()}
    heads = model.multibox.ConvolutionalClassHead_0.ClassPredictor.W.array.copy()
    losses = []
    for _ in range(4):
        optimizer.update(chain, *batch)
        losses.append(float(chain(*batch).array))
    assert losses[-1] < losses[0]
    for key, param in model.extractor.base.namedparams():
        np.testing.assert_array_equal(param.array, base[key])
    assert not np.array_equal(model.multibox.ConvolutionalClassHead_0.ClassPredictor.W.array,
                              heads)


def test_train_steps_freezes_the_mobilenet_base(model_copy):
    samples = _samples(np.random.default_rng(2))
    before = model_copy.extractor.base.Conv1.W.array.copy()
    history = replicate.train.train_steps(model_copy, samples, 6, 1e-3, batch_size=2,
                                          freeze=True)
    assert history[-1]['loss'] < history[0]['loss']
    np.testing.assert_array_equal(model_copy.extractor.base.Conv1.W.array, before)
