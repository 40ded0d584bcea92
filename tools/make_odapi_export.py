"""Build a tiny, randomly initialised SSD-MobileNetV2 with the TF Object
Detection API and export it as a SavedModel test fixture.

Runs ONLY in the separate OD API environment made by make_odapi_export.sh
(Python 3.10, tensorflow 2.15, tf-models-official 2.15, tf-keras 2.15,
tf-models-research-object-detection 2.8.0.post1, TF_USE_LEGACY_KERAS=1,
PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python); not in the project's env.

Steps:
1. write a pipeline config (SSD, ssd_mobilenet_v2_keras, depth multiplier
   0.25, fixed_shape_resizer 128x128, 3 classes named after VOC classes);
2. build the model with `model_builder`, seed TF, run one forward pass so the
   variables exist, set the batch norms' moving statistics from seeded noise
   images (see calibrate_batch_norm) and save a checkpoint (random weights);
3. export with `exporter_lib_v2.export_inference_graph(INPUT_TYPE, ...)`
   (tf_example needs one shim: install_control_flow_shim)
   (`--input-type`: image_tensor, the default, float_image_tensor,
   encoded_image_string_tensor or tf_example); with `--weights-from EXPORT`
   step 2 restores the weights of that earlier export of the same config
   instead of drawing and calibrating them (the calibration's float sums
   differ in the last bits from run to run), so exports of several input
   types hold the very same weights, byte for byte;
4. keep `saved_model/` (less its empty `assets/`) and `pipeline.config` (the
   exporter's `checkpoint/` repeats the weights and is dropped) and write
   `label_map.pbtxt`.

Usage: python tools/make_odapi_export.py OUT_DIR [--seed 0] [--input-type TYPE]
           [--weights-from EXPORT]
"""
import argparse
import os
import shutil
import sys
import tempfile

# Three Pascal VOC class names; OD API ids are 1-based (0 = background).
# Few classes keep the graph small: OD API's multiclass NMS adds one NMS
# subgraph per class (20 classes gave a 7.7 MB export, 5.7 MB of it graph).
DEFAULT_CLASSES = ('person', 'cat', 'dog')
#: The input types of exporter_lib_v2 (its DETECTION_MODULE_MAP keys).
INPUT_TYPES = ('image_tensor', 'float_image_tensor', 'encoded_image_string_tensor',
               'tf_example')

# Close to the model zoo's ssd_mobilenet_v2 config, shrunk: 128x128 input,
# depth multiplier 0.25, 1x1 box-predictor kernels, few classes. The box
# predictor uses variance scaling instead of the zoo's normal(0.01) so that
# random logits spread over (0, 1) after the sigmoid (see calibrate_batch_norm).
PIPELINE_TEMPLATE = """
model {
  ssd {
    num_classes: %(num_classes)d
    image_resizer { fixed_shape_resizer { height: %(size)d width: %(size)d } }
    feature_extractor {
      type: "ssd_mobilenet_v2_keras"
      depth_multiplier: %(depth_multiplier)s
      min_depth: 16
      conv_hyperparams {
        regularizer { l2_regularizer { weight: 4e-05 } }
        initializer { truncated_normal_initializer { mean: 0.0 stddev: 0.03 } }
        activation: RELU_6
        batch_norm { decay: 0.997 scale: true epsilon: 0.001 }
      }
      override_base_feature_extractor_hyperparams: true
    }
    box_coder {
      faster_rcnn_box_coder { y_scale: 10.0 x_scale: 10.0 height_scale: 5.0 width_scale: 5.0 }
    }
    matcher {
      argmax_matcher {
        matched_threshold: 0.5 unmatched_threshold: 0.5
        ignore_thresholds: false negatives_lower_than_unmatched: true
        force_match_for_each_row: true use_matmul_gather: true
      }
    }
    similarity_calculator { iou_similarity {} }
    box_predictor {
      convolutional_box_predictor {
        conv_hyperparams {
          regularizer { l2_regularizer { weight: 4e-05 } }
          initializer { variance_scaling_initializer { factor: 1.0 mode: FAN_IN } }
          activation: RELU_6
          batch_norm { decay: 0.997 scale: true epsilon: 0.001 }
        }
        min_depth: 0
        max_depth: 0
        num_layers_before_predictor: 0
        use_dropout: false
        dropout_keep_probability: 0.8
        kernel_size: 1
        box_code_size: 4
        apply_sigmoid_to_scores: false
      }
    }
    anchor_generator {
      ssd_anchor_generator {
        num_layers: 6
        min_scale: 0.2
        max_scale: 0.95
        aspect_ratios: 1.0
        aspect_ratios: 2.0
        aspect_ratios: 0.5
        aspect_ratios: 3.0
        aspect_ratios: 0.3333
      }
    }
    post_processing {
      batch_non_max_suppression {
        score_threshold: 1e-08
        iou_threshold: 0.6
        max_detections_per_class: 100
        max_total_detections: 100
      }
      score_converter: SIGMOID
    }
    normalize_loss_by_num_matches: true
    loss {
      localization_loss { weighted_smooth_l1 {} }
      classification_loss {
        weighted_sigmoid_focal { gamma: 2.0 alpha: 0.75 }
      }
      classification_weight: 1.0
      localization_weight: 1.0
    }
    encode_background_as_zeros: true
    normalize_loc_loss_by_codesize: true
    inplace_batchnorm_update: true
    freeze_batchnorm: false
  }
}
"""


def check_environment():
    """Fail loudly unless the env variables the OD API 2.8 code needs are set."""
    expected = {'TF_USE_LEGACY_KERAS': '1',
                'PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION': 'python'}
    for name, value in expected.items():
        if os.environ.get(name) != value:
            sys.exit('error: set %s=%s (run tools/make_odapi_export.sh)'
                     % (name, value))


def install_control_flow_shim():
    """`control_flow_ops.case` and `.cond` where tf_slim's TFExampleDecoder
    (input type tf_example) still calls them: they moved to their own
    modules in TF 2.13."""
    from tensorflow.python.ops import cond, control_flow_case, control_flow_ops
    for name, function in (('case', control_flow_case.case), ('cond', cond.cond)):
        if not hasattr(control_flow_ops, name):
            setattr(control_flow_ops, name, function)


def pipeline_text(num_classes, size, depth_multiplier):
    """Return the pipeline config text (pipeline_pb2 text format)."""
    return PIPELINE_TEMPLATE % dict(
        num_classes=num_classes, size=size, depth_multiplier=depth_multiplier)


def label_map_text(class_names):
    """Return a StringIntLabelMap text: item { id: 1 name: ... } per class."""
    items = []
    for i, name in enumerate(class_names, start=1):
        items.append("item {\n  id: %d\n  name: '%s'\n  display_name: '%s'\n}\n"
                     % (i, name, name))
    return ''.join(items)


def parse_pipeline(text):
    """Parse pipeline text into a TrainEvalPipelineConfig proto."""
    from google.protobuf import text_format
    from object_detection.protos import pipeline_pb2
    config = pipeline_pb2.TrainEvalPipelineConfig()
    text_format.Merge(text, config)
    return config


def calibration_images(seed, size, count=8):
    """Seeded uniform-noise images, [count, size, size, 3] float32 in [0, 255]."""
    import numpy as np
    rng = np.random.RandomState(seed)
    return rng.uniform(0, 255, (count, size, size, 3)).astype(np.float32)


def calibrate_batch_norm(model, images):
    """Set every batch-norm layer's moving mean/variance to the statistics of
    its input on `images` ([N, H, W, 3] float32, raw pixels).

    Why: with random weights (the zoo's small initializers; a depthwise
    kernel's true fan-in is only 9) and the initial moving statistics (0, 1),
    the inference-mode network shrinks activations block after block until
    every feature is ~1e-10: every score is exactly 0.5 and every box its
    anchor, which tests nothing. One training-mode pass with momentum 0 copies the batch
    statistics into the moving ones, so features come out about unit scale.
    """
    import tensorflow as tf
    from object_detection.core.freezable_batch_norm import FreezableBatchNorm
    layers = [l for l in model._feature_extractor.submodules
              if isinstance(l, FreezableBatchNorm)]
    if not layers:
        raise RuntimeError('no BatchNormalization layer found to calibrate')
    saved = [(l.momentum, l._training) for l in layers]
    for layer in layers:
        # OD API's FreezableBatchNorm pins training=False through _training.
        layer.momentum, layer._training = 0.0, None
    preprocessed, _ = model.preprocess(tf.constant(images))
    model._feature_extractor(preprocessed, training=True)
    for layer, (momentum, training) in zip(layers, saved, strict=True):
        layer.momentum, layer._training = momentum, training
    return len(layers)


def save_random_checkpoint(config, ckpt_dir, seed, size, weights_from=None):
    """Build the model with a seeded random init, calibrate its batch norms
    on seeded noise images (or restore the weights of the export
    `weights_from`) and save a checkpoint in ckpt_dir.
    Returns (number of parameters, number of batch-norm layers calibrated)."""
    import tensorflow as tf
    from object_detection.builders import model_builder
    tf.keras.utils.set_random_seed(seed)
    model = model_builder.build(config.model, is_training=False)
    images = calibration_images(seed, size)
    # One inference pass creates all variables (feature extractor and heads).
    preprocessed, shapes = model.preprocess(tf.constant(images[:1]))
    model.postprocess(model.predict(preprocessed, shapes), shapes)
    if weights_from:
        # the exporter saves its module, whose `_model` is this model
        prefix = os.path.join(weights_from, 'saved_model', 'variables', 'variables')
        # (the byte-for-byte check is the caller's: cmp of variables.data)
        tf.train.Checkpoint(_model=model).restore(prefix).expect_partial() \
            .assert_nontrivial_match()
        n_bn = 0
    else:
        n_bn = calibrate_batch_norm(model, images)
    ckpt = tf.train.Checkpoint(model=model)
    tf.train.CheckpointManager(ckpt, ckpt_dir, max_to_keep=1).save(0)
    n_params = int(sum(v.shape.num_elements() for v in model.variables))
    return n_params, n_bn


def export(config, ckpt_dir, out_dir, input_type='image_tensor'):
    """Export a SavedModel taking `input_type`; copy saved_model/ and
    pipeline.config into out_dir (replacing what is there)."""
    from object_detection import exporter_lib_v2
    with tempfile.TemporaryDirectory() as tmp:
        exporter_lib_v2.export_inference_graph(
            input_type, config, ckpt_dir, tmp)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.makedirs(out_dir)
        shutil.copytree(os.path.join(tmp, 'saved_model'),
                        os.path.join(out_dir, 'saved_model'))
        # Empty, and git cannot keep an empty directory: drop it here too.
        os.rmdir(os.path.join(out_dir, 'saved_model', 'assets'))
        shutil.copy(os.path.join(tmp, 'pipeline.config'), out_dir)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--depth-multiplier', default='0.25')
    parser.add_argument('--classes', default=','.join(DEFAULT_CLASSES),
                        help='comma-separated class names, id 1 first')
    parser.add_argument('--input-type', default='image_tensor',
                        choices=INPUT_TYPES)
    parser.add_argument('--weights-from', metavar='EXPORT',
                        help='restore the weights of this earlier export')
    args = parser.parse_args(argv)
    check_environment()
    if args.input_type == 'tf_example':
        install_control_flow_shim()
    class_names = args.classes.split(',')
    config = parse_pipeline(pipeline_text(
        len(class_names), args.size, args.depth_multiplier))
    with tempfile.TemporaryDirectory() as ckpt_dir:
        n_params, n_bn = save_random_checkpoint(
            config, ckpt_dir, args.seed, args.size, args.weights_from)
        export(config, ckpt_dir, args.out_dir, args.input_type)
    with open(os.path.join(args.out_dir, 'label_map.pbtxt'), 'w') as f:
        f.write(label_map_text(class_names))
    print('exported %s (%s, %d parameters, %d batch norms calibrated, seed %d)'
          % (args.out_dir, args.input_type, n_params, n_bn, args.seed))


if __name__ == '__main__':
    main()
