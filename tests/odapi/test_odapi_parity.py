"""``python -m replicate.odapi.parity``: the layer-by-layer proof against TF."""
import json
import os

import numpy as np
import pandas as pd
import pytest
from odapi_paths import EXPORT, FROZEN, LARGE, MAKE_LARGE, raw_images

from replicate.odapi.parity import capture, cli
from replicate.odapi.parity.detections import align
from replicate.parity import metrics
from replicate.tolerances import ODAPI_FIXTURE, ODAPI_LAYER, ODAPI_PARITY, spelled

pytestmark = pytest.mark.xdist_group('tf')  # one worker builds its fixtures

#: The fixture's tolerance (see reports/parity/README.md): its random,
#: quarter-width network amplifies float32 rounding; the full-size export
#: passes the default ODAPI_PARITY.
FIXTURE_RTOL = ['--rtol', spelled(ODAPI_FIXTURE), '--rtol-reason',
                'the tiny random network amplifies rounding']


def test_detections_tied_within_tolerance_may_swap():
    ref = {'classes': np.array([0, 1, 0]), 'anchor_indices': np.array([5, 7, 9]),
           'scores': np.array([0.9, 0.5, 0.5 - 1e-6])}
    ours = {key: value[[0, 2, 1]] for key, value in ref.items()}
    aligned, note = align(ours, ref, atol=1e-5)
    assert note == '2 detections reordered among scores tied within 1e-05'
    np.testing.assert_array_equal(aligned['anchor_indices'], ref['anchor_indices'])
    _, note = align(ours, ref, atol=1e-7)
    assert note == '2 detections in another order, not explained by tied scores'
    other = dict(ours, anchor_indices=np.array([5, 8, 7]))
    assert align(other, ref, 1e-5)[1] == '1 of 3 reference detections (class, anchor) not in ours'


@pytest.mark.tf
def test_every_layer_of_ours_has_its_tf_tensor(export_model, export_graph):
    names = [n for n in capture.trace_ours(export_model, np.zeros((1, 3, 128, 128), np.float32))
             if n != 'input']
    fetches, unmatched = capture.tf_fetches(export_graph, names)
    assert unmatched == [] and len(fetches) == len(names) > 200
    assert fetches['extractor/base/block_13_expand_relu'][0].endswith(
        'model/block_13_expand_relu/Relu6:0')
    local = capture.local_fetches(export_graph, export_model, names)
    ins, out = local['extractor/base/block_7_add']  # the Add takes two inputs
    assert len(ins) == 2 and out.endswith('_add/add:0')
    # on TF's own inputs each layer is within float32 rounding of TF's
    ours, ref = capture.run_local(export_model, export_graph, raw_images()[:1], local)
    worst = max(metrics.errors(ours[n], ref[n])['scaled_err'] for n in ref)
    assert 0 < worst < ODAPI_LAYER


class _Shared:
    """The session's ExportGraph for the command (closing it is left to the fixture)."""

    def __init__(self, graph):
        self.graph = graph

    def __call__(self, saved_model_dir):
        assert os.path.samefile(saved_model_dir, os.path.join(EXPORT, 'saved_model'))
        return self

    def __getattr__(self, name):
        return getattr(self.graph, name)

    def close(self):
        pass


@pytest.mark.tf
def test_command_writes_a_passing_report(tmp_path, export_graph, monkeypatch):
    """Without --out the report goes to a folder of its own, never reports/parity/."""
    # the export is frozen once per session (the command would redo it: ~5 s)
    from replicate.odapi.parity import tf_graph
    monkeypatch.setattr(tf_graph, 'ExportGraph', _Shared(export_graph))
    monkeypatch.chdir(tmp_path)
    code = cli.main([os.path.abspath(EXPORT), '--batch', '1'] + FIXTURE_RTOL)
    assert os.listdir(tmp_path / 'reports') == ['parity-latest']
    stem = tmp_path / 'reports' / 'parity-latest' / 'odapi_ssd_mobilenet_v2_cpu'
    assert code == 0
    frame = pd.read_csv(str(stem) + '.csv')
    assert (frame['verdict'] != metrics.DIVERGES).all()
    names = set(frame['name'])
    assert {'layer:extractor/base/Conv1', 'extractor[5]', 'box_encodings', 'class_predictions',
            'anchors', 'preprocess[0]', 'decoded[0]', 'scores[0]', 'detections[0]/classes',
            'predict[0]/boxes'} <= names
    verdicts = frame.set_index('name')['verdict']
    assert verdicts['detections[0]/anchor_indices'] == metrics.EXACT
    assert verdicts['preprocess[0]'] in (metrics.EXACT, metrics.WITHIN)
    text = open(str(stem) + '.md').read()
    assert text.startswith('# SSD-MobileNetV2 parity') and '**PASS**' in text
    # a folder outside the repository: the columns page is named, not linked
    assert 'Columns are explained in reports/parity/README.md of the repository.' in text
    meta = json.load(open(str(stem) + '.meta.json'))
    assert meta['summary']['verdict'] == 'PASS' and meta['not_compared'] == []
    assert 'Reason given for this tolerance: the tiny random' in meta['tolerance_note']
    # each layer alone is far inside the target
    assert frame[frame['name'].str.startswith('layer:')]['scaled_err'].max() < ODAPI_LAYER
    assert meta['provenance']['version.tensorflow'] != 'not loaded'


def test_user_errors_exit_2(tmp_path, capsys):
    assert cli.main([str(tmp_path / 'nope')]) == 2
    junk = tmp_path / 'frozen_inference_graph.pb'
    junk.write_bytes(b'not a graph')
    assert cli.main([str(junk), '--out', str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith('error: ') for line in err)
    assert 'is not a folder' in err[0] and 'not a TF GraphDef' in err[1]
    assert cli.main([EXPORT, '--batch', '0']) == 2
    assert cli.main([EXPORT, '--rtol', '1e-3']) == 2
    assert 'say why with --rtol-reason' in capsys.readouterr().err


@pytest.mark.tf
def test_command_on_a_tf1_frozen_graph(tmp_path):
    """The committed TF1 fixture (slim, convolutional heads) passes at the
    default 1e-4; its settings state the configuration and where it came from."""
    assert cli.main([FROZEN, '--out', str(tmp_path), '--batch', '1']) == 0
    stem = str(tmp_path / 'odapi_frozen_cpu')
    frame = pd.read_csv(stem + '.csv')
    assert (frame['verdict'] != metrics.DIVERGES).all()
    verdicts = frame.set_index('name')['verdict']
    assert verdicts['anchors'] == metrics.EXACT
    for name in ('detections[0]/classes', 'detections[0]/anchor_indices'):
        assert verdicts[name] == metrics.EXACT
    assert {'layer:extractor/base/expanded_conv_1/depthwise/conv', 'extractor[5]',
            'multibox/BoxPredictor_3/ClassPredictor>reshape', 'box_encodings'} <= set(frame['name'])
    meta = json.load(open(stem + '.meta.json'))
    assert meta['not_compared'] == []
    settings = meta['settings']
    assert settings['config.configuration'].startswith('from ')
    assert settings['config.anchors'].startswith('330 anchors, equal bit for bit')
    assert 'graph.sha256' in meta['provenance']
    assert open(stem + '.md').read().startswith('# SSD-MobileNetV2 (TF1) parity')


@pytest.mark.slow
@pytest.mark.tf
@pytest.mark.skipif(not os.path.isdir(LARGE), reason='the full-size export is not built: run '
                    '{} (about 10 minutes; needs the package index)'.format(MAKE_LARGE))
def test_full_size_export_passes(tmp_path):
    assert cli.main([LARGE, '--out', str(tmp_path)]) == 0
    frame = pd.read_csv(str(tmp_path / 'odapi_ssd_mobilenet_v2_300_cpu.csv'))
    # the standard configuration: 1917 anchors, 90 classes + background
    shapes = frame.set_index('name')['shape']
    assert shapes['anchors'] == '1917x4' and shapes['class_predictions'] == '2x1917x91'
    assert (frame['scaled_err'].fillna(0) <= ODAPI_PARITY).all()
