"""The benchmark's and the tunables' report writers on a tiny trained model
(their training runs are long: they are commands, not tests)."""
import importlib.util
import json
import os
import re

import numpy as np
import pandas as pd
import pytest
from trainhelp import TINY

from replicate.train import cli, experiments, tunables
from replicate.train.snapshot import load_model

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools')


def _tool(name):
    """A script of tools/ (a folder of commands, not a package) as a module."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(TOOLS, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchmark = _tool('train_benchmark')


@pytest.fixture(scope='module')
def tiny_run(shapes_voc, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('run'))
    assert cli.main(['--train', shapes_voc, '--train-split', 'train', '--out', out, '--quiet',
                     '--batch-size', '4', '--iterations', '4', '--log-interval', '2',
                     '--eval-interval', '2', '--lr', '0.01'] + TINY) == 0
    with open(os.path.join(out, 'log')) as f:
        return os.path.join(out, 'model.npz'), json.load(f)


def test_benchmark_report(tiny_run, tmp_path):
    _, log = tiny_run
    result = {'ap': np.array([0.5, 0.25, np.nan, 1, 0]), 'map': 0.4375}
    info = {'parameters': 123, 'device': 'CPU', 'provenance': {'commit': 'x'},
            'harness_map': 0.4375}
    benchmark.write_report(str(tmp_path), result, list('abcde'), 12.5, log, ('1', '2'), info)
    assert sorted(os.listdir(tmp_path)) == [
        'benchmark.md', 'benchmark.meta.json', 'benchmark_ap.csv', 'benchmark_ap.md',
        'benchmark_log.csv', 'loss_curve.png']
    text = (tmp_path / 'benchmark.md').read_text()
    assert '0.4375' in text and 'NOT met' in text
    frame = pd.read_csv(tmp_path / 'benchmark_log.csv')
    assert list(frame['iteration']) == [2, 4] and frame['validation/main/map'].notna().all()


def test_threshold_study_and_figure(tiny_run, shapes_voc, tmp_path):
    path, _ = tiny_run
    rows = tunables.threshold_rows(path, shapes_voc, split='val')
    frame = pd.DataFrame(rows)
    assert len(frame) == len(tunables.NMS_THRESHOLDS) * len(tunables.SCORE_THRESHOLDS)
    # a higher score threshold never keeps more detections
    for _, group in frame.groupby('nms_thresh'):
        assert (np.diff(group['detections_per_image']) <= 0).all()
    arch = pd.DataFrame([{'study': 'aspect ratios', 'setting': "'2'", 'map_voc07': 0.1,
                          'infer_ms_per_image': 5.0}])
    tunables.plot(pd.concat([arch, frame]), str(tmp_path / 'tunables.png'))
    assert (tmp_path / 'tunables.png').stat().st_size > 1000


def test_above_equals_predicting_with_the_threshold(tiny_run, shapes_voc):
    path, _ = tiny_run
    model, meta = load_model(path)
    model.nms_thresh, model.score_thresh = 0.45, 0.01
    low = experiments.predict_split(model, shapes_voc, 'val', meta['label_names'])
    model.score_thresh = 0.2
    high = experiments.predict_split(model, shapes_voc, 'val', meta['label_names'])
    for a, b in zip(experiments.above(low, 0.2)[:3], high[:3], strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def _tunables_rows():
    arch = [{'study': 'aspect ratios', 'setting': "'2' (4 per location)", 'default_boxes': 10.0,
             'parameters': 20.0, 'train_s_per_iter': 1.5, 'train_s': 3.0,
             'infer_ms_per_image': 7.0, 'nms_thresh': 0.45, 'score_thresh': 0.01,
             'map_voc07': 0.5, 'detections_per_image': 9.0}]
    grid = [{'study': 'thresholds', 'setting': 'nms {} score {}'.format(nms, score),
             'nms_thresh': nms, 'score_thresh': score, 'map_voc07': nms + score,
             'detections_per_image': 100 * score} for nms in (0.3, 0.6) for score in (0.1, 0.2)]
    return pd.DataFrame(arch + grid)


def test_tunables_page_and_reuse(tmp_path):
    frame = _tunables_rows()
    frame.to_csv(tmp_path / 'tunables.csv', index=False)
    meta = {'provenance': {'commit': 'abc'}, 'schedule': ['--iterations', '5'],
            'threshold_model': 'benchmark', 'load_average': ['1, 1, 1', '2, 2, 2']}
    (tmp_path / 'tunables.meta.json').write_text(json.dumps(meta))
    assert tunables.main(['--reuse', '--out', str(tmp_path)]) == 0
    text = (tmp_path / 'tunables.md').read_text()
    # the architecture row, integers without a decimal point, no NaN cells
    assert "| aspect ratios | '2' (4 per location) | 10 | 20 | 1.5 | 7 | 9 | 0.5 |" in text
    assert not re.search(r'\bnan\b', text)
    # the mAP grid: score thresholds down, NMS IoU across; the best cell named
    assert '| score threshold | nms 0.3 | nms 0.6 |' in text
    assert '| 0.2 | 0.5 | 0.8 |' in text
    assert 'Best: mAP 0.8000 at NMS IoU 0.6 and score threshold 0.2' in text
    assert '--iterations 5' in text and '| commit | abc |' in text
    assert (tmp_path / 'tunables.png').stat().st_size > 1000


def test_tunables_reuse_without_a_run_is_one_line(tmp_path, capsys):
    assert tunables.main(['--reuse', '--out', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'tunables.csv' in err and 'without --reuse' in err
