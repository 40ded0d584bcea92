"""Real TensorFlow artifacts for the TF adapter tests, built in temporary folders.

Each model computes, deterministically from the image ``x`` ([1, H, W, 3] uint8):

- ``detection_boxes`` [1, 5, 4]: the fixed normalized yxyx :data:`BOXES`;
- ``detection_classes`` [1, 5]: :data:`CLASSES` (1-based, float32);
- ``detection_scores`` [1, 5]: the means of R, G, B over the image / 255,
  sorted by descending value (the OD API sorts), then 0, 0;
- ``num_detections`` [1]: 3 (the last two rows are padding, as in the OD API),
  or 0 for an all-black image (nothing detected).

Tests compute the expected detections from these constants with numpy.
"""
import os

import numpy as np

BOXES = np.array([[0.1, 0.2, 0.5, 0.6], [0.0, 0.0, 1.0, 1.0], [0.25, 0.5, 0.75, 0.9],
                  [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
CLASSES = np.array([1, 2, 3, 0, 0], np.float32)
NUM_DETECTIONS = 3
LABEL_MAP = {1: 'cat', 2: 'dog', 3: 'person'}
LABEL_MAP_TEXT = '\n'.join(
    'item {{\n  id: {}\n  name: "{}"\n}}'.format(i, n) for i, n in sorted(LABEL_MAP.items()))


def expected_outputs(image):
    """What the built models return for ``image`` ((H, W, 3) uint8), per image."""
    means = image.reshape(-1, 3).astype(np.float64).mean(axis=0) / 255.0
    scores = np.concatenate([np.sort(means)[::-1], [0.0, 0.0]]).astype(np.float32)
    return BOXES, CLASSES, scores, NUM_DETECTIONS if image.any() else 0


def _od_outputs(tf, image):
    """The four OD API outputs as TF ops of a [1, H, W, 3] uint8 tensor."""
    # (1, H, W, 3) -> (1, 3) channel means in [0, 1], descending
    means = tf.sort(tf.reduce_mean(tf.cast(image, tf.float32), axis=[1, 2]) / 255.0,
                    direction='DESCENDING')
    found = tf.cast(tf.reduce_max(image) > 0, tf.float32)
    return {
        'detection_boxes': tf.constant(BOXES[None]),
        'detection_classes': tf.constant(CLASSES[None]),
        'detection_scores': tf.concat([means, tf.zeros([1, 2])], axis=1),
        'num_detections': tf.reshape(found * NUM_DETECTIONS, [1]),
    }


def write_label_map(folder):
    path = os.path.join(folder, 'label_map.pbtxt')
    with open(path, 'w') as f:
        f.write(LABEL_MAP_TEXT + '\n')
    return path


def build_saved_model_export(folder):
    """An OD-API-like export: ``folder/saved_model/`` + ``folder/label_map.pbtxt``."""
    import tensorflow as tf

    class Detector(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
        def serve(self, input_tensor):
            return _od_outputs(tf, input_tensor)

    module = Detector()
    os.makedirs(folder, exist_ok=True)
    tf.saved_model.save(module, os.path.join(folder, 'saved_model'),
                        signatures={'serving_default': module.serve.get_concrete_function()})
    write_label_map(folder)
    return folder


def build_wrong_signature_model(folder):
    """A SavedModel whose serving signature takes float32 ``images`` -> ``logits``."""
    import tensorflow as tf

    class Classifier(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 3], tf.float32)])
        def serve(self, images):
            return {'logits': tf.reduce_mean(images, axis=[1, 2])}

    module = Classifier()
    tf.saved_model.save(module, folder,
                        signatures={'serving_default': module.serve.get_concrete_function()})
    write_label_map(folder)
    return folder


def build_frozen_graph(folder, input_name='image_tensor'):
    """A TF1 ``frozen_inference_graph.pb`` (constants only) + label map."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.uint8, [1, None, None, 3], name=input_name)
        for key, tensor in _od_outputs(tf, image).items():
            tf.identity(tensor, name=key)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, 'frozen_inference_graph.pb')
    with open(path, 'wb') as f:
        f.write(graph.as_graph_def().SerializeToString())
    write_label_map(folder)
    return path
