"""``python -m replicate.train --finetune-from tf:EXPORT_DIR --freeze-base``:
the OD API export fine-tuned on a new class set (the generated shapes, 5
classes for the export's 3) with its MobileNetV2 base frozen; snapshots,
resume, the saved model rebuilt without TensorFlow and run by the harness."""
import json
import os

import numpy as np
import pandas as pd
import pytest
from odapi_paths import EXPORT, FROZEN

from compare.run import main as run_compare
from replicate.datasets.synthetic import generate
from replicate.train import cli, odapi_source
from replicate.train.run import seed_everything
from replicate.train.snapshot import load_model

# the weights come from the real export; fine-tuning the port costs ~20 s, so slow
# (tests/odapi/test_odapi_train.py keeps the training step in the default run)
pytestmark = [pytest.mark.tf, pytest.mark.slow]

SOURCE = 'tf:' + EXPORT
HEADS = '/multibox/ConvolutionalClassHead_'


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('shapes'))
    generate(root, seed=0, counts=[('train', 6), ('val', 2)])
    return root


def train(shapes, out, *extra):
    argv = ['--train', shapes, '--train-split', 'train', '--out', str(out), '--quiet',
            '--batch-size', '2', '--log-interval', '1', '--lr', '0.01', '--no-augment',
            '--iterations', '20', '--snapshot-interval', '16', '--eval-interval', '0']
    return cli.main(argv + list(extra))


@pytest.fixture(scope='module')
def run(shapes, tmp_path_factory):
    """A fine-tuning run of 20 iterations (snapshots at 16 and 20) and the
    same run resumed from its snapshot 16."""
    pytest.importorskip('tensorflow')
    out = tmp_path_factory.mktemp('finetune')
    assert train(shapes, out / 'whole', '--finetune-from', SOURCE, '--freeze-base') == 0
    assert train(shapes, out / 'resumed', '--resume',
                 str(out / 'whole' / 'snapshot_iter_16.npz')) == 0
    return out


def log(folder):
    with open(os.path.join(str(folder), 'log')) as f:
        return json.load(f)


def params(model):
    return {key: param.array for key, param in model.namedparams()}


def test_the_export_fills_all_but_the_class_heads(export_model):
    with open(os.path.join(EXPORT, 'pipeline.config')) as f:
        model = odapi_source.build(f.read(), 5)
    fresh = params(model)
    _, loaded, kept = odapi_source.load_export(model, SOURCE)
    assert kept == sorted('multibox/ConvolutionalClassHead_{}/ClassPredictor/{}'.format(k, p)
                          for k in range(6) for p in 'Wb')
    assert len(loaded) > 300
    export, tuned = params(export_model), params(model)
    for key, value in tuned.items():
        if key.startswith(HEADS):  # new heads: 6 slots (5 classes + background)
            assert value.shape[0] == export[key].shape[0] // 4 * 6, key
            np.testing.assert_array_equal(value, fresh[key])
        else:
            np.testing.assert_array_equal(value, export[key], err_msg=key)
    pp = model.config.post_processing
    assert (model.config.num_classes, pp.score_converter, pp.logit_scale) == (5, 'SOFTMAX', 1)
    assert export_model.config.post_processing.score_converter == 'SIGMOID'


def test_the_base_is_frozen_and_the_rest_trained(run, export_model):
    model, meta = load_model(str(run / 'whole' / 'model.npz'))
    assert meta['model']['arch'] == 'odapi' and meta['recipe']['freeze_base']
    assert meta['label_names'] == ['circle', 'square', 'triangle', 'cross', 'star']
    export, tuned = params(export_model), params(model)
    seed_everything(0)  # the run's seed: its initial class heads
    initial = params(odapi_source.build(meta['model']['pipeline'], 5))
    moved = {}
    for key, value in tuned.items():
        if key.startswith('/extractor/base/'):
            np.testing.assert_array_equal(value, export[key], err_msg=key)
        else:
            moved[key] = not np.array_equal(value, (initial if HEADS in key else export)[key])
    # every extra layer (4 maps x 2 convolutions x W, gamma, beta), every head's
    # weights; a bias moves only where some anchor of its map matched a box
    assert len(moved) == 24 + 4 * 6 and all(v for k, v in moved.items() if k[-1] != 'b')
    assert sum(moved.values()) >= 24 + 2 * 6 + 2
    # the class heads moved from the run's fresh ones, far less than another draw
    seed_everything(1)
    other = params(odapi_source.build(meta['model']['pipeline'], 5))
    key = HEADS + '0/ClassPredictor/W'
    assert np.abs(tuned[key] - initial[key]).mean() < 0.6 * np.abs(other[key] - initial[key]).mean()
    for name in ('avg_mean', 'avg_var'):  # moving statistics are never updated
        assert np.array_equal(getattr(model.extractor.base.bn_Conv1, name),
                              getattr(export_model.extractor.base.bn_Conv1, name))


def test_the_loss_falls(run):
    loss = [entry['main/loss'] for entry in log(run / 'whole')]
    assert len(loss) == 20 and np.isfinite(loss).all()
    assert np.mean(loss[-5:]) < 0.5 * np.mean(loss[:5]), loss
    assert 0 <= log(run / 'whole')[-1]['validation/main/map'] <= 1


def test_resume_equals_an_uninterrupted_run(run):
    whole, resumed = (np.load(str(run / name / 'model.npz'), allow_pickle=False)
                      for name in ('whole', 'resumed'))
    keys = sorted(k for k in whole.files if k != '__meta__')
    assert keys == sorted(k for k in resumed.files if k != '__meta__')
    for key in keys:
        np.testing.assert_array_equal(resumed[key], whole[key], err_msg=key)
    assert [e['main/loss'] for e in log(run / 'resumed')] == \
        [e['main/loss'] for e in log(run / 'whole')]


def test_its_scores_are_the_softmax_it_was_trained_with(run):
    model, _ = load_model(str(run / 'whole' / 'model.npz'))
    img = np.random.default_rng(0).uniform(0, 255, (3, 90, 70)).astype(np.float32)
    out, = model.detect_images([img])
    np.testing.assert_allclose(out['scores_all'].sum(axis=1), 1, rtol=1e-5)
    bboxes, labels, scores = model.predict([img])
    assert len(bboxes[0]) and labels[0].max() < 5 and np.all(np.diff(scores[0]) <= 0)


def test_the_harness_runs_and_scores_it(run, shapes, tmp_path):
    out = tmp_path / 'compare'
    assert run_compare([os.path.join(shapes, 'JPEGImages'), '--out', str(out), '-d',
                             'trained:' + str(run / 'whole' / 'model.npz'), '--no-speed',
                             '--no-progress', '--common-nms']) == 0
    summary = pd.read_csv(out / 'map_summary.csv').set_index('detector')
    assert summary.loc['trained', 'classes_evaluated'] == 5
    assert summary.loc['trained', 'images'] == 8
    assert 0 <= summary.loc['trained', 'map_voc07'] <= 1
    assert 'trained.common_nms' in summary.index


@pytest.mark.parametrize('extra, message', [
    (['--finetune-from', SOURCE, '--model', 'small'], 'drop --model'),
    (['--finetune-from', SOURCE, '--nms-thresh', '0.5'], '--nms-thresh: an OD API model'),
    (['--finetune-from', 'tf:' + os.path.dirname(EXPORT)], 'has no pipeline.config'),
    (['--finetune-from', 'tf:'], 'needs the export folder'),
    (['--finetune-from', 'tf:' + FROZEN], 'feature_extractor.type'),  # a TF1 export
])
def test_wrong_arguments_are_one_line(shapes, tmp_path, capsys, extra, message):
    assert train(shapes, tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith('error: ') and err.count('\n') == 1


def test_the_training_transforms_give_the_ports_input():
    import random

    from replicate.train.trainer import make_transform
    with open(os.path.join(EXPORT, 'pipeline.config')) as f:
        model = odapi_source.build(f.read(), 5)
    img = np.random.default_rng(1).uniform(0, 255, (3, 90, 70)).astype(np.float32)
    sample = (img, np.array([[10, 5, 60, 50]], np.float32), np.array([4], np.int32))
    x, locs, labels = make_transform(model, False)(sample)
    np.testing.assert_array_equal(x, model._prepare(img))
    assert labels.max() == 5 and locs.shape == (len(model.coder.anchors), 4)
    x, locs, labels = make_transform(model, True)(sample, rng=random.Random(0), coin=lambda: 1)
    assert x.shape == (3, 128, 128) and x.dtype == np.float32
    assert -1 <= x.min() < 0 < x.max() <= 1  # [0, 255] -> [-1, 1], not minus a mean
