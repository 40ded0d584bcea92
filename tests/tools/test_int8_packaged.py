"""``tools/int8_packaged.py`` end to end on one photograph and the face SSD:
the report's rows (the reference agrees with itself, the float32 engines with
it, the int8 paths are measured under both calibrations) and its one-line
refusals."""
import csv
import importlib.util
import os
import shutil
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)
pytest.importorskip('replicate.ov.runtime', reason='openvino extra not installed')


def _tool():
    path = os.path.join(ROOT, 'tools', 'int8_packaged.py')
    spec = importlib.util.spec_from_file_location('int8_packaged', path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.abspath(os.path.join(ROOT, 'tools')))
    spec.loader.exec_module(module)
    return module


tool = _tool()


def test_face_report(tmp_path, capsys):
    images = tmp_path / 'images'
    images.mkdir()
    shutil.copy(os.path.join(ROOT, 'images', 'grace_hopper.jpg'), images)
    out = tmp_path / 'out'
    assert tool.main(['--images', str(images), '--detectors', 'res10-face',
                      '--out', str(out)]) == 0
    with open(out / 'int8_packaged.csv') as f:
        rows = {(r['path'], r['calibration']): r for r in csv.DictReader(f)}
    assert list(rows) == [('chainer-fp32', '-'), ('onnx-fp32', '-'), ('openvino-fp32', '-'),
                          ('onnx-int8', 'photos'), ('openvino-int8', 'photos'),
                          ('onnx-int8', 'in-sample'), ('openvino-int8', 'in-sample')]
    reference = rows['chainer-fp32', '-']
    found = int(reference['detections_ref'])
    assert found >= 6  # the face, in each of the six views
    assert reference['matched'] == str(found) and float(reference['raw_max_scaled_diff']) == 0
    for path in ('onnx-fp32', 'openvino-fp32'):
        assert rows[path, '-']['matched'] == str(found)
        assert float(rows[path, '-']['raw_max_scaled_diff']) < 1e-5
    for key, row in rows.items():
        if key[0].endswith('int8'):
            assert 1e-3 < float(row['raw_max_scaled_diff']) < 1
            assert int(row['matched']) >= found // 2
    text = (out / 'int8_packaged.md').read_text()
    assert '1 photographs in' in text and 'grace_hopper' in text
    assert '`res10-face`: confident float32 detections that int8 keeps, calibrated on the ' \
        'photos: onnx-int8 {} of {}'.format(rows['onnx-int8', 'photos']['matched'], found) in text
    assert 'CC BY 2.0 (danielbuechele on Flickr), SHA-256 8378025a' in text


@pytest.mark.parametrize('args, words', [
    (['--detectors', 'yolo'], '--detectors yolo: use a comma-separated list of'),
    (['--images', 'nowhere'], '--images nowhere: no such folder; pass --images FOLDER'),
    (['--images', '{empty}'], 'empty: no .jpg, .jpeg or .png in it; pass --images FOLDER'),
    (['--images', '{corrupt}'], 'x.JPG: not a readable image (cannot identify image file'),
])
def test_refusals_are_one_line(args, words, tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'corrupt').mkdir()
    (tmp_path / 'corrupt' / 'x.JPG').write_bytes(b'\xff\xd8 not a JPEG at all')
    args = [a.format(empty=tmp_path / 'empty', corrupt=tmp_path / 'corrupt') for a in args]
    assert tool.main(args + ['--out', str(tmp_path / 'out')]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count('\n') == 1
    assert not (tmp_path / 'out').exists()
