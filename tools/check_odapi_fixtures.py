"""Check that the committed OD API fixtures load and run under the project's
TensorFlow (2.20, Keras 3), and print what they return.

Usage (project env): .venv/bin/python tools/check_odapi_fixtures.py
Exits non-zero (AssertionError) if a shape, dtype or value range is wrong.
"""
import os

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                    'tests', 'fixtures')
SAVED_MODEL = os.path.join(ROOT, 'odapi_ssd_mobilenet_v2', 'saved_model')
FROZEN = os.path.join(ROOT, 'odapi_frozen', 'frozen_inference_graph.pb')
NUM_CLASSES = 3
NUM_ANCHORS = 330  # 8x8x3 + 4x4x6 + 2x2x6 + 3 x (1x1x6) at 128x128 input
OUTPUTS = ('detection_boxes', 'detection_scores', 'detection_classes',
           'num_detections', 'detection_multiclass_scores',
           'raw_detection_boxes', 'raw_detection_scores')


def test_image(batch):
    """Seeded noise, [batch, 200, 300, 3] uint8 (not the 128x128 model size)."""
    return np.random.RandomState(0).randint(
        0, 256, (batch, 200, 300, 3)).astype(np.uint8)


def check(out, batch):
    """Assert shapes and ranges of OD API outputs (dict of float32 arrays)."""
    # OD API: boxes normalized [ymin, xmin, ymax, xmax]; classes 1-based float
    assert out['detection_boxes'].shape == (batch, 100, 4)
    assert out['raw_detection_boxes'].shape == (batch, NUM_ANCHORS, 4)
    assert out['raw_detection_scores'].shape == (batch, NUM_ANCHORS,
                                                 NUM_CLASSES + 1)
    assert all(v.dtype == np.float32 for v in out.values())
    boxes = out['detection_boxes']
    assert boxes.min() >= 0 and boxes.max() <= 1
    assert (boxes[..., 2:] >= boxes[..., :2]).all()
    classes = out['detection_classes']
    assert classes.min() >= 1 and classes.max() <= NUM_CLASSES
    scores = out['detection_scores']
    assert (np.diff(scores, axis=1) <= 0).all(), 'scores not sorted'
    assert np.unique(scores).size > 10, 'degenerate (constant) scores'
    for name in sorted(out):
        v = out[name]
        print('  %-28s %-14s min %.4g max %.4g' % (
            name, v.shape, v.min(), v.max()))


def run_saved_model():
    import tensorflow as tf
    fn = tf.saved_model.load(SAVED_MODEL).signatures['serving_default']
    out = fn(input_tensor=tf.constant(test_image(1)))
    print('saved_model serving_default, batch 1:')
    check({k: v.numpy() for k, v in out.items()}, 1)


def run_frozen():
    import tensorflow as tf
    graph_def = tf.compat.v1.GraphDef()
    with open(FROZEN, 'rb') as f:
        graph_def.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name='')
    with tf.compat.v1.Session(graph=graph) as sess:
        out = sess.run({k: k + ':0' for k in OUTPUTS},
                       {'image_tensor:0': test_image(2)})
    print('frozen graph image_tensor:0, batch 2:')
    check(out, 2)


if __name__ == '__main__':
    run_saved_model()
    run_frozen()
    print('ok')
