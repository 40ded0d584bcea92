"""Re-decoding kept network outputs (no network): equal to ChainerCV's own
decoder on the same outputs, for the run's thresholds, other ones, and the grid."""
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from chainercv.links.model.ssd import MultiboxCoder
from test_score_fakerun import entry, write_images, write_run

from compare.adapters.chainer_ssd import VOC_NAMES
from compare.errors import UserError
from compare.runner.scoring import main, score_run
from compare.score import redecode
from compare.score.inputs import read_run

SIZES = {'a.png': (200, 300), 'b.png': (300, 150)}
K, INSIZE = 8732, 300


def chainercv_coder():
    return MultiboxCoder((38, 19, 10, 5, 3, 1), ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,)),
                         (8, 16, 32, 64, 100, 300), (30, 60, 111, 162, 213, 264, 315),
                         (0.1, 0.2))


def outputs(seed):
    """Trained-like network outputs: background wins except on 60 boxes."""
    rng = np.random.RandomState(seed)
    locs = rng.normal(0, 0.5, (K, 4)).astype(np.float32)
    confs = np.zeros((K, 21), np.float32)
    confs[:, 0] = 10
    rows = rng.choice(K, 60, replace=False)
    confs[rows, rng.randint(1, 21, 60)] = 10 + rng.uniform(-3, 4, 60)
    return locs, confs


def expected(locs, confs, size, nms, score):
    """ChainerCV's decode, scaled and clipped as the adapter does."""
    box, label, found = chainercv_coder().decode(locs, confs, nms, score)
    scale = np.array([size[0], size[1], size[0], size[1]], np.float32) / INSIZE
    box = box * scale
    box[:, 0::2] = np.clip(box[:, 0::2], 0, size[0])
    box[:, 1::2] = np.clip(box[:, 1::2], 0, size[1])
    return box, label, found


def rows_of(box, label, score):
    return [{'y_min': float(b[0]), 'x_min': float(b[1]), 'y_max': float(b[2]),
             'x_max': float(b[3]), 'label': int(l), 'name': VOC_NAMES[l], 'score': float(s)}
            for b, l, s in zip(box, label, score, strict=True)]


@pytest.fixture(scope='module')
def kept_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('kept')
    images = str(root / 'images')
    write_images(images, SIZES)
    run_dir = str(root / 'run')
    found, raw = {}, {}
    for seed, (image, size) in enumerate(sorted(SIZES.items())):
        raw[image] = outputs(seed)
        found[image] = rows_of(*expected(*raw[image], size, 0.45, 0.6))
    ours = dict(entry('ours', VOC_NAMES), info={'preset': 'visualize', 'nms_thresh': 0.45,
                                                'score_thresh': 0.6})
    write_run(run_dir, {'ours': found}, SIZES, [ours], images_dir=images)
    for image, (locs, confs) in raw.items():   # the format of compare/rundir/, by hand
        folder = os.path.join(run_dir, 'raw', 'netout', 'ours')
        os.makedirs(folder, exist_ok=True)
        np.savez_compressed(os.path.join(folder, image + '.npz'), locs=locs, confs=confs,
                            size=np.array(SIZES[image], np.int64), insize=np.int64(INSIZE))
    return run_dir, raw


def detections_of(frame, image):
    mine = frame[frame['image'] == image].sort_values(['label', 'score'],
                                                      ascending=[True, False])
    return (mine[['y_min', 'x_min', 'y_max', 'x_max']].to_numpy(np.float32),
            mine['label'].to_numpy(), mine['score'].to_numpy(np.float32))


def test_redecoding_equals_chainercv_at_the_runs_and_other_thresholds(kept_run):
    run_dir, raw = kept_run
    for nms, score in ((None, None), (0.45, None), (0.3, 0.3), (0.6, 0.01)):
        run = read_run(run_dir)
        redecode.apply(run, nms, score)
        for image, size in SIZES.items():
            box, label, found = expected(*raw[image], size, nms or 0.45, score or 0.6)
            order = np.lexsort((-found, label))
            got = detections_of(run.detections, image)
            np.testing.assert_array_equal(got[1], label[order])
            tolerance = 1e-4 if nms is None else 0   # the jsonl holds %.17g of float32
            np.testing.assert_allclose(got[0], box[order], atol=tolerance)
            np.testing.assert_allclose(got[2], found[order], rtol=1e-6)
        if nms is not None:
            assert 'ours: re-decoded from kept network outputs with NMS IoU {}'.format(
                nms) in ' '.join(run.warnings)


def test_grid_counts_equal_chainercv(kept_run, capsys):
    run_dir, raw = kept_run
    assert main([run_dir, '--nms-thresh', '0.3', '--score-thresh', '0.6']) == 0
    assert 'report: ' in capsys.readouterr().out
    grid = pd.read_csv(os.path.join(run_dir, 'decode_grid.csv')).set_index(
        ['nms_thresh', 'score_thresh'])
    assert len(grid) == 9
    for nms in (0.3, 0.45, 0.6):
        for score in (0.01, 0.3, 0.6):
            total = sum(len(expected(*raw[image], size, nms, score)[1])
                        for image, size in SIZES.items())
            assert grid.loc[(nms, score), 'detections'] == total
            assert grid.loc[(nms, score), 'detections_per_image'] == total / 2
            assert grid.loc[(nms, score), 'native'] == ((nms, score) == (0.45, 0.6))
    assert os.path.exists(os.path.join(run_dir, 'figures', 'grid.png'))


def _pickled(path):
    np.savez(path, locs=np.array([{'x': 1}], dtype=object), confs=np.zeros(1),
             size=np.zeros(2), insize=np.int64(300))


def _text(path):
    with open(path, 'w') as f:
        f.write('garbage')


@pytest.mark.parametrize('write, reason', [(_pickled, 'holds pickled Python objects'),
                                           (_text, r'not an \.npz \(zip\) archive')])
def test_a_kept_file_that_is_not_ours_is_one_line(kept_run, tmp_path, write, reason):
    run_dir = str(tmp_path / 'run')
    shutil.copytree(kept_run[0], run_dir)
    path = os.path.join(run_dir, 'raw', 'netout', 'ours', 'a.png.npz')
    write(path)
    with pytest.raises(UserError, match='cannot read kept network output .*a.png.npz: ' +
                       reason) as caught:
        score_run(run_dir)
    assert '\n' not in str(caught.value) and '--keep-raw --force' in str(caught.value)
    meta = json.load(open(os.path.join(run_dir, 'meta.json')))
    assert meta['detectors'][0]['name'] == 'ours'


def test_rescoring_says_what_it_scored(kept_run, tmp_path, capsys):
    run_dir = str(tmp_path / 'run')
    shutil.copytree(kept_run[0], run_dir)
    assert main([run_dir, '--nms-thresh', '0.3', '--decode-score-thresh', '0.5']) == 0
    err = capsys.readouterr().err
    assert ('ours: re-decoded from kept network outputs with NMS IoU 0.3 and score '
            'threshold 0.5 (the run used 0.45 and 0.6)') in err.splitlines()
    summary = open(os.path.join(run_dir, 'summary.md')).read()
    assert ('re-decoded when scored: score >= 0.5, NMS IoU 0.3 (the run: preset visualize: '
            'score >= 0.6, NMS IoU 0.45)') in summary
    assert 'preset visualize: score >= 0.6, NMS IoU 0.45 |' not in summary
