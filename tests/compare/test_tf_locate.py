"""Which model a tf:/tf1: path means, on folders laid out as the OD API writes
them (files empty: only the layout matters here; loading is tested on the
real exports in test_tf_exports.py)."""
import os

import numpy as np
import pytest

from compare.adapters import build, tf_inputs, tf_locate
from compare.adapters.protocol import reads_files
from compare.errors import UserError


def touch(root, *paths):
    for path in paths:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        open(full, 'w').close()
    return str(root)


@pytest.fixture
def tf1_zoo(tmp_path):
    """A TF1 model zoo archive's layout."""
    return touch(tmp_path / 'ssd_tiny_coco_2018_01_28', 'checkpoint', 'frozen_inference_graph.pb',
                 'model.ckpt.data-00000-of-00001', 'model.ckpt.index', 'model.ckpt.meta',
                 'pipeline.config', 'saved_model/saved_model.pb')


@pytest.fixture
def tf2_export(tmp_path):
    """exporter_main_v2.py's output folder."""
    return touch(tmp_path / 'my_export', 'checkpoint/checkpoint', 'checkpoint/ckpt-0.index',
                 'checkpoint/ckpt-0.data-00000-of-00001', 'pipeline.config',
                 'saved_model/saved_model.pb', 'saved_model/variables/variables.index')


@pytest.mark.parametrize('inside', ['', 'saved_model', 'saved_model/saved_model.pb',
                                    'pipeline.config', 'model.ckpt.index', 'checkpoint',
                                    'frozen_inference_graph.pb'])
def test_every_path_into_a_tf1_zoo_folder(tf1_zoo, inside):
    path = os.path.join(tf1_zoo, inside)
    for kind, prefer in (('tf', tf_locate.SAVED_MODEL), ('tf1', tf_locate.FROZEN)):
        found = tf_locate.locate(path, prefer)
        assert found.export_dir == tf1_zoo
        if inside == 'frozen_inference_graph.pb' or (prefer == tf_locate.FROZEN and not
                                                     inside.startswith('saved_model')):
            assert found == tf_locate.Located(tf_locate.FROZEN, os.path.join(
                tf1_zoo, 'frozen_inference_graph.pb'), tf1_zoo)
        else:
            assert found == tf_locate.Located(tf_locate.SAVED_MODEL, os.path.join(
                tf1_zoo, 'saved_model'), tf1_zoo)
        assert build('{}:{}'.format(kind, path)).name == kind + '-ssd_tiny_coco_2018_01_28'


@pytest.mark.parametrize('inside', ['', 'saved_model', 'saved_model/saved_model.pb',
                                    'checkpoint', 'checkpoint/ckpt-0.index', 'pipeline.config'])
def test_every_path_into_a_tf2_export(tf2_export, inside):
    path = os.path.join(tf2_export, inside)
    saved = tf_locate.Located(tf_locate.SAVED_MODEL, os.path.join(tf2_export, 'saved_model'),
                              tf2_export)
    assert tf_locate.locate(path, tf_locate.SAVED_MODEL) == saved
    assert tf_locate.locate(path, tf_locate.FROZEN) == saved  # tf1: takes what is there
    assert build('tf:' + path).name == 'tf-my_export'


def test_a_bare_saved_model_folder_is_named_after_itself(tmp_path):
    folder = touch(tmp_path / 'detector_v3', 'saved_model.pb')
    assert tf_locate.locate(folder, tf_locate.SAVED_MODEL).model == folder
    assert build('tf:' + folder).name == 'tf-detector_v3'


def test_a_frozen_graph_alone_is_found_by_tf_too(tmp_path):
    folder = touch(tmp_path / 'old', 'frozen_inference_graph.pb', 'ssd_v1_2017.pb')
    found = tf_locate.locate(folder, tf_locate.SAVED_MODEL)
    assert found.route == tf_locate.FROZEN and found.export_dir == folder
    assert build('tf1:{}/frozen_inference_graph.pb'.format(folder)).name == 'tf1-old'
    assert build('tf1:{}/ssd_v1_2017.pb'.format(folder)).name == 'tf1-ssd_v1_2017'
    assert tf_locate.locate(folder + '/ssd_v1_2017.pb', tf_locate.SAVED_MODEL).model == \
        folder + '/ssd_v1_2017.pb'


def test_a_training_folder_is_told_how_to_export(tmp_path):
    folder = touch(tmp_path / 'train', 'checkpoint', 'ckpt-7.index', 'pipeline.config')
    with pytest.raises(UserError, match='training checkpoint.*exporter_main_v2.py') as info:
        tf_locate.locate(folder, tf_locate.SAVED_MODEL)
    assert '\n' not in str(info.value)


def test_the_folder_above_an_export_names_it(tf1_zoo):
    with pytest.raises(UserError, match='pass the export folder inside it: ' + tf1_zoo):
        tf_locate.locate(os.path.dirname(tf1_zoo), tf_locate.FROZEN)


def test_missing_and_empty(tmp_path):
    with pytest.raises(UserError, match='does not exist'):
        tf_locate.locate(str(tmp_path / 'nope'), tf_locate.SAVED_MODEL)
    with pytest.raises(UserError, match='no saved_model/saved_model.pb or '
                                        'frozen_inference_graph.pb in'):
        tf_locate.locate(str(tmp_path), tf_locate.FROZEN)


def test_decode_option_is_checked_when_the_spec_is_built(tf2_export):
    assert build('tf:{},decode=tf'.format(tf2_export)).decode == 'tf'
    # the file bytes reach a TF detector declared random too
    assert reads_files(build('tf:{},random_weights=yes'.format(tf2_export)))
    assert not reads_files(build('fake:0,random_weights=yes'))
    assert build('tf1:{}'.format(tf2_export)).decode is None
    with pytest.raises(UserError, match='decode=pil .* or decode=tf'):
        build('tf:{},decode=opencv'.format(tf2_export))


def test_groups_are_runs_of_one_size_within_the_batch_limit():
    images = [np.zeros(shape, np.uint8) for shape in
              [(4, 5, 3), (4, 5, 3), (4, 5, 3), (6, 5, 3), (4, 5, 3)]]
    assert tf_inputs.groups(images, None) == [[0, 1, 2], [3], [4]]
    assert tf_inputs.groups(images, 2) == [[0, 1], [2], [3], [4]]
    assert tf_inputs.groups(images, 1) == [[0], [1], [2], [3], [4]]


def test_input_types_from_signatures_and_placeholders():
    spec = tf_inputs.from_signature('input_tensor', 'uint8', [1, None, None, 3], set(), 'm')
    assert spec == tf_inputs.InputSpec('image_tensor', 1, 'input_tensor')
    assert tf_inputs.from_signature('input_tensor', 'float32', [None, None, None, 3], set(),
                                    'm').input_type == 'float_image_tensor'
    assert tf_inputs.from_signature('inputs', 'string', [None], {'DecodeJpeg'},
                                    'm').input_type == 'encoded_image_string_tensor'
    assert tf_inputs.from_signature('input_tensor', 'string', [None], {'ParseExampleV2'},
                                    'm').input_type == 'tf_example'
    assert tf_inputs.from_signature('images', 'float32', [None, 8], set(), 'm') is None
    assert tf_inputs.from_placeholder('tf_example', 'string', [None], 'g') == \
        tf_inputs.InputSpec('tf_example', None, 'tf_example:0')
    with pytest.raises(UserError, match='fixed image size 300x300.*without --input_shape'):
        tf_inputs.from_placeholder('image_tensor', 'uint8', [1, 300, 300, 3], 'g')
