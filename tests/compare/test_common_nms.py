"""--common-nms: the one post-processing reproduces a Chainer SSD's own NMS
from its candidates, applies its cap, and takes the TF exports' pre-NMS
outputs (the whole run with it: test_cli_reports)."""
import numpy as np
import pytest
from conftest import CHAINER_THRESH, contract_images

from compare.adapters.common_nms import Candidates, CommonNMS, NMSParams, suppress, variants

pytestmark = pytest.mark.xdist_group('tf')  # one worker builds its fixtures


def same_detections(mine, theirs):
    """Equal as sets: labels and scores exactly, boxes to 1e-3 px (float32 rounding
    of the other order of scaling)."""
    a, b = (np.lexsort((-d.scores, d.labels)) for d in (mine, theirs))
    np.testing.assert_array_equal(mine.labels[a], theirs.labels[b])
    np.testing.assert_array_equal(mine.scores[a], theirs.scores[b])
    np.testing.assert_allclose(mine.boxes[a], theirs.boxes[b], atol=1e-3)


def test_common_nms_with_the_presets_settings_is_the_ssds_own(chainer_adapters,
                                                              chainer_predictions):
    adapter = chainer_adapters['ours']
    native, _ = chainer_predictions['ours']   # decoded at score >= CHAINER_THRESH, NMS 0.45
    images = contract_images()
    candidates, times = adapter.predict_candidates(images)
    assert times['inference'] > 0 and candidates[0].boxes.shape == (8732, 4)
    for found, theirs, image in zip(candidates, native.detections, images, strict=True):
        mine = suppress(found, NMSParams(adapter.model.nms_thresh, CHAINER_THRESH, 10 ** 6),
                        image.shape[:2])
        assert len(theirs) > 3
        same_detections(mine, theirs)
        capped = suppress(found, NMSParams(0.45, CHAINER_THRESH, 3), image.shape[:2])
        assert sorted(capped.scores.tolist(), reverse=True) == sorted(
            theirs.scores.tolist(), reverse=True)[:3]
    variant = CommonNMS(adapter, NMSParams(adapter.model.nms_thresh, CHAINER_THRESH, 10 ** 6))
    assert variant.name == 'ours.common_nms'
    info = variant.info()
    assert info.name == 'ours.common_nms' and info.info['variant_of'] == 'ours'
    assert info.info['preset'] == 'common_nms iou=0.45 score=0.3 cap=1000000'


def test_suppress_per_class_cap_and_clip():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [-5, 50, 5, 70]],
                     np.float64) / [20, 60, 20, 60]   # normalized to a 20 x 60 image
    # columns: class 7 then class 9
    scores = np.array([[0.9, 0.1], [0.8, 0.0], [0.0, 0.7], [0.6, 0.2]], np.float32)
    candidates = Candidates(boxes, scores, (7, 9), ('cat', 'dog'))
    found = suppress(candidates, NMSParams(0.5, 0.15, 100), (20, 60))
    # box 1 suppressed by box 0 (same class, IoU 0.81); box 2 is another class; box 3 clipped
    assert list(found.labels) == [7, 7, 9, 9] and list(found.names) == ['cat', 'cat', 'dog',
                                                                        'dog']
    np.testing.assert_allclose(found.scores, [0.9, 0.6, 0.7, 0.2])
    np.testing.assert_allclose(found.boxes[1], [0, 50, 5, 60])
    top = suppress(candidates, NMSParams(0.5, 0.15, 2), (20, 60))
    np.testing.assert_allclose(sorted(top.scores), [0.7, 0.9])


def test_variants_follow_only_adapters_with_candidates(chainer_adapters):
    from compare.adapters import build
    fake = build('fake:0')
    found = variants([chainer_adapters['ours'], fake], NMSParams())
    assert [a.name for a in found] == ['ours', 'ours.common_nms', 'fake']
    assert variants([fake], None) == [fake]


def test_tf_export_candidates_agree_with_its_own_nms(real_export):
    image = contract_images()[0]
    (candidates,), times = real_export.predict_candidates([image])
    native = real_export.predict([image]).detections[0]
    assert candidates.names == ('person', 'cat', 'dog') and candidates.labels == (1, 2, 3)
    assert candidates.scores.shape == (330, 3) and times['inference'] > 0
    assert float(candidates.scores.max()) == float(native.scores.max())
    variant = CommonNMS(real_export, NMSParams(0.6, 1e-8, 100)).predict([image]).detections[0]
    best = int(np.argmax(variant.scores))
    assert variant.labels[best] == native.labels[0]
    np.testing.assert_allclose(variant.boxes[best], native.boxes[0], atol=1e-3)


def test_the_odapi_port_gives_the_exports_candidates(real_export, real_port):
    image = contract_images()[0]
    (theirs,), _ = real_export.predict_candidates([image])
    (mine,), _ = real_port.predict_candidates([image])
    assert (mine.labels, mine.names) == (theirs.labels, theirs.names)
    # the fixture's float32 parity tolerance (test_adapters_odapi, reports/parity)
    np.testing.assert_allclose(mine.scores, theirs.scores, atol=3e-4)
    np.testing.assert_allclose(mine.boxes, theirs.boxes, atol=3e-4)
