"""Adapter plumbing that needs no model: specs, fake detector, label maps,
OD API output conversion, TF zoo cache handling (no TensorFlow imported)."""
import io
import os
import socket
import tarfile

import numpy as np
import pytest

from compare.adapters import (
    KINDS,
    build,
    build_all,
    parse_spec,
    tf_common,
    tf_zoo,
    uses_tensorflow,
)
from compare.errors import UserError


def test_parse_spec_splits_kind_arg_and_options():
    assert parse_spec('tf:a/b:c,labels=coco,name=x') == ('tf', 'a/b:c', {'labels': 'coco',
                                                                          'name': 'x'})
    assert parse_spec('ours') == ('ours', '', {})


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(UserError) as info:
        build('yolo:v3')
    for kind in KINDS:
        assert kind in str(info.value)


def test_unknown_option_and_bad_option_are_errors():
    with pytest.raises(UserError, match='unknown option.*colour.*it takes count=N'):
        build('fake:1,colour=red')
    with pytest.raises(UserError, match='KEY=VALUE'):
        build('fake:1,novalue')


def test_the_registry_says_which_kinds_use_tensorflow():
    # what puts TensorFlow's version into a run's provenance (compare.runner.cli)
    assert uses_tensorflow('tf:export,labels=coco') and uses_tensorflow('tf1:graph.pb')
    assert uses_tensorflow('tfzoo:name') and uses_tensorflow('ours-odapi:export')
    assert not any(uses_tensorflow(kind) for kind in ('ours', 'chainercv', 'ours-onnx',
                                                      'trained:m.npz', 'fake'))
    with pytest.raises(UserError, match='unknown detector kind'):
        uses_tensorflow('pytorch:x')


def test_duplicate_names_need_name_option():
    with pytest.raises(UserError, match='name=OTHER'):
        build_all(['fake:1', 'fake:2'])
    assert [a.name for a in build_all(['fake:1', 'fake:2,name=other'])] == ['fake', 'other']


def test_default_names_are_filename_safe():
    assert build('tf:some dir/my model/saved_model').name == 'tf-my_model'
    assert build('tf1:x/ssd_v1/frozen_inference_graph.pb').name == 'tf1-ssd_v1'


def test_fake_detector_is_deterministic_and_inside_image():
    adapter = build('fake:5,count=4')
    adapter.load()
    image = np.random.RandomState(0).randint(0, 255, (30, 50, 3), np.uint8)
    first = adapter.predict([image, image[:, ::-1]])
    again = build('fake:5,count=4').predict([image])
    np.testing.assert_array_equal(first.detections[0].boxes, again.detections[0].boxes)
    assert not np.array_equal(first.detections[0].boxes, first.detections[1].boxes)
    assert len(first.detections[0]) == 4  # the rest of the contract: test_adapter_contract


def test_fake_fail_option_fails_load():
    with pytest.raises(UserError, match='asked to fail'):
        build('fake:0,fail=boom').load()


def test_od_outputs_to_pixels_of_the_original_image_and_names():
    boxes = np.array([[0.5, 0.25, 1.0, 0.75], [0.1, 0.1, 0.2, 0.2], [0, 0, 0, 0]], np.float32)
    classes = np.array([2.0, 12.0, 0.0], np.float32)
    out = tf_common.od_outputs_to_detections(boxes, classes, [0.9, 0.8, 0.0], [2.0], (200, 400),
                                             {2: 'bicycle'})
    assert len(out) == 2  # num_detections cuts the padding row
    np.testing.assert_allclose(out.boxes[0], [100, 100, 200, 300])
    np.testing.assert_allclose(out.boxes[1], [20, 40, 40, 80])
    assert out.labels.tolist() == [2, 12]
    assert out.names == ('bicycle', 'unlisted_id_12')


def test_missing_label_map_says_where_it_looked(tmp_path):
    with pytest.raises(UserError, match='labels=coco') as info:
        tf_common.find_label_map(None, [str(tmp_path)], 'model-x')
    assert str(tmp_path) in str(info.value) and 'model-x' in str(info.value)


def _closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_zoo_offline_error_names_url_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv('SSD_SUITE_TF_ZOO_URL', 'http://127.0.0.1:{}/m/'.format(_closed_port()))
    with pytest.raises(UserError) as info:
        tf_zoo.ensure_model('ssd_x', str(tmp_path), timeout=5)
    message = str(info.value)
    assert '/m/ssd_x.tar.gz' in message and str(tmp_path) in message
    assert 'Connection refused' in message and '\n' not in message
    assert os.listdir(tmp_path) == []  # no partial download left


def _tar(path, members):
    with tarfile.open(path, 'w:gz') as tar:
        for name, data in members.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))


def test_zoo_archive_placed_by_hand_is_extracted(tmp_path):
    _tar(tmp_path / 'ssd_x.tar.gz', {'ssd_x/saved_model/saved_model.pb': b'pb',
                                     'ssd_x/pipeline.config': b'cfg'})
    target = tf_zoo.ensure_model('ssd_x', str(tmp_path))
    assert (tmp_path / 'ssd_x' / 'saved_model' / 'saved_model.pb').read_bytes() == b'pb'
    assert target == str(tmp_path / 'ssd_x')
    assert [p for p in os.listdir(tmp_path) if p.startswith('.extract')] == []


def test_zoo_archive_with_escaping_paths_is_refused(tmp_path):
    _tar(tmp_path / 'evil.tar.gz', {'../outside.txt': b'x'})
    with pytest.raises(UserError, match="refused archive .*evil.tar.gz: member '../outside.txt' "
                                         'lies outside evil/; nothing was extracted'):
        tf_zoo.ensure_model('evil', str(tmp_path))
    assert not (tmp_path.parent / 'outside.txt').exists()


def test_zoo_name_is_validated():
    with pytest.raises(UserError, match='archive name'):
        build('tfzoo:../etc')
