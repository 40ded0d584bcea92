"""Loading the real OD API export strictly, and our port's outputs against
the export's own signature outputs in TensorFlow."""
import os
import shutil

import numpy as np
import pytest
from odapi_paths import EXPORT, FROZEN, raw_images

from replicate.odapi import SSDMobileNetV2, checkpoint
from replicate.odapi.errors import ConfigError, ExportError, ExportWeightsError
from replicate.odapi.parity.detections import align
from replicate.parity.metrics import errors
from replicate.tolerances import ODAPI_PARITY

pytestmark = pytest.mark.tf


@pytest.fixture(scope='module')
def signature(export_graph):
    """The export's serving signature on one uint8 image: its outputs, batch
    axis dropped (run as the frozen graph the parity command uses)."""
    def call(image):
        return {key: value[0] for key, value in export_graph.run(image,
                                                                  export_graph.outputs).items()}
    return call


def test_every_variable_is_used_with_its_shape(export_model):
    arrays = checkpoint.read_variables(checkpoint.find_variables(EXPORT))
    expected = checkpoint.expected_variables(export_model)
    found, unused = checkpoint._match(arrays, expected)
    assert len(arrays) == len(expected) == len(found) == 324 and unused == []
    params = dict((k.lstrip('/'), p) for k, p in export_model.namedparams())
    kernel = arrays['block_1_expand/kernel']  # (1, 1, 16, 96) -> (96, 16, 1, 1)
    np.testing.assert_array_equal(params['extractor/base/block_1_expand/W'].array,
                                  kernel.transpose(3, 2, 0, 1))
    depthwise = arrays['block_1_depthwise/depthwise_kernel']  # (3, 3, 96, 1) -> (96, 1, 3, 3)
    np.testing.assert_array_equal(params['extractor/base/block_1_depthwise/W'].array[5, 0],
                                  depthwise[:, :, 5, 0])
    np.testing.assert_array_equal(export_model.extractor.base['bn_Conv1'].avg_var,
                                  arrays['bn_Conv1/moving_variance'])


def _fails(model, arrays):
    with pytest.raises(ExportWeightsError) as info:
        checkpoint.load_variables(model, arrays, 'EXPORT')
    message = str(info.value)
    assert message.startswith('EXPORT does not fit') and '\n' not in message
    return message


def test_missing_unexpected_and_misshapen_variables_are_named(model_copy):
    arrays = checkpoint.read_variables(checkpoint.find_variables(EXPORT))
    before = model_copy.extractor.base['Conv1'].W.array.copy()
    missing = dict(arrays)
    del missing['bn_Conv1/gamma']
    assert '1 missing (looked for FeatureMaps/' not in _fails(model_copy, missing)
    assert 'extractor/base/bn_Conv1/gamma' in _fails(model_copy, missing)
    extra = dict(arrays, **{'some_scope/new_layer/kernel': np.zeros(3, np.float32)})
    assert '1 unexpected: some_scope/new_layer/kernel' in _fails(model_copy, extra)
    wrong = dict(arrays, **{'Conv1/kernel': np.zeros((3, 3, 3, 8), np.float32)})
    assert '1 misshapen: Conv1/kernel (export (3, 3, 3, 8)' in _fails(model_copy, wrong)
    # all or nothing: a refused file changes no parameter
    np.testing.assert_array_equal(model_copy.extractor.base['Conv1'].W.array, before)


def test_export_folder_errors(tmp_path):
    with pytest.raises(ExportError, match='TF1 frozen-graph export'):
        checkpoint.find_variables(FROZEN)
    with pytest.raises(ConfigError, match='model.ssd.feature_extractor.type'):
        SSDMobileNetV2.from_export(FROZEN)
    with pytest.raises(ExportError, match='has no pipeline.config'):
        SSDMobileNetV2.from_export(str(tmp_path))
    broken = tmp_path / 'broken'
    shutil.copytree(EXPORT, broken)
    index = broken / 'saved_model' / 'variables' / 'variables.index'
    index.write_bytes(b'not a checkpoint index')
    with pytest.raises(ExportError, match='cannot read the checkpoint .*variables'):
        SSDMobileNetV2.from_export(str(broken))


def test_predictions_match_the_export(export_model, signature):
    for image in raw_images():
        tf_out = signature(image)
        ours = export_model.detect_images([image.transpose(2, 0, 1).astype(np.float32)])[0]
        # every anchor's decoded box and scores before NMS
        assert errors(ours['decoded'], tf_out['raw_detection_boxes'])['scaled_err'] < ODAPI_PARITY
        scores = errors(ours['scores_all'], tf_out['raw_detection_scores'])
        assert scores['scaled_err'] < ODAPI_PARITY
        # identical final detections; two whose scores tie within ODAPI_PARITY may swap
        n = int(tf_out['num_detections'])
        assert n == len(ours['scores']) > 10
        reference = {'classes': tf_out['detection_classes'][:n].astype(np.int32) - 1,
                     'anchor_indices': tf_out['detection_anchor_indices'][:n].astype(np.int32),
                     'scores': tf_out['detection_scores'][:n],
                     'boxes': tf_out['detection_boxes'][:n]}
        aligned, note = align({key: ours[key] for key in reference}, reference, atol=ODAPI_PARITY)
        assert note == '' or 'reordered among scores tied' in note
        for key in ('classes', 'anchor_indices'):
            np.testing.assert_array_equal(aligned[key], reference[key])
        for key in ('boxes', 'scores'):
            np.testing.assert_allclose(aligned[key], reference[key], atol=ODAPI_PARITY)


def test_predict_returns_pixels_and_zero_based_labels(export_model, signature):
    image = raw_images()[0]
    bboxes, labels, scores = export_model.predict([image.transpose(2, 0, 1)])
    tf_out = signature(image)
    n = int(tf_out['num_detections'])
    height, width = image.shape[:2]
    np.testing.assert_allclose(bboxes[0][:10], tf_out['detection_boxes'][:10] *
                               [height, width, height, width], atol=1e-2)
    assert sorted(labels[0]) == sorted(tf_out['detection_classes'][:n] - 1)
    assert labels[0].dtype == np.int32 and bboxes[0].dtype == np.float32


def test_anchors_equal_the_exports(export_model, export_graph):
    anchors = export_graph.run(raw_images()[0], {'a': export_graph.find_anchors()})['a']
    np.testing.assert_array_equal(export_model.coder.anchors, anchors)


def test_exporter_checkpoint_folder_loads_under_another_scope(tmp_path, export_model):
    """An export without saved_model/ but with checkpoint/ckpt-N (the
    exporter's object graph: root -> 'model'), names under another scope."""
    tf = pytest.importorskip('tensorflow')
    arrays = checkpoint.read_variables(checkpoint.find_variables(EXPORT))
    model = tf.Module()
    renamed = {name.replace('ssd_mobile_net_v2_keras_feature_extractor_1/',
                            'ssd_mobile_net_v2_keras_feature_extractor/'): value
               for name, value in arrays.items()}
    model.weights = [tf.Variable(value, name=name) for name, value in sorted(renamed.items())]
    folder = tmp_path / 'export'
    (folder / 'checkpoint').mkdir(parents=True)
    shutil.copy(os.path.join(EXPORT, 'pipeline.config'), folder)
    tf.train.Checkpoint(model=model).write(str(folder / 'checkpoint' / 'ckpt-0'))
    assert checkpoint.find_variables(str(folder)).endswith('ckpt-0')
    loaded = SSDMobileNetV2.from_export(str(folder))
    for (key, ours), (_, theirs) in zip(sorted(loaded.namedparams()),
                                        sorted(export_model.namedparams()), strict=True):
        np.testing.assert_array_equal(ours.array, theirs.array, err_msg=key)
