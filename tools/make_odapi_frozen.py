"""Build the same tiny SSD-MobileNetV2 as make_odapi_export.py, but with the
TF Object Detection API's TF1 code path (slim feature extractor
'ssd_mobilenet_v2'), and export it with the TF1 exporter
(`object_detection.exporter.export_inference_graph`) to a frozen GraphDef:
OUT_DIR/frozen_inference_graph.pb (+ pipeline.config, label_map.pbtxt).

Runs in the OD API environment of make_odapi_export.sh (tensorflow 2.15 in
v1 mode). That code path predates TF2; five shims make it run, each applied
explicitly in install_tf1_shims() and listed here:
  1. empty modules for `tensorflow.contrib.*` (module-level imports of code
     this export never calls: bipartite matcher, nasnet HParams, tfprof);
  2. numpy aliases np.int / np.float / np.bool / np.object (removed in 1.24);
  3. `tensorflow.python.framework.ops.Tensor` (moved in TF 2.14; tf_slim 1.1
     still reads it);
  4. top-level `nets` = `object_detection.nets` (slim's nets, vendored under
     object_detection in this repackaging);
  5. exporter.profile_inference_graph made a no-op (it only logs parameter
     and FLOP counts through contrib's tfprof).

Usage: python tools/make_odapi_frozen.py OUT_DIR [--seed 0]
"""
import argparse
import importlib.abc
import importlib.machinery
import os
import shutil
import sys
import tempfile
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_odapi_export as common  # noqa: E402


class _ContribStub(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves an empty package for every `tensorflow.contrib...` import."""

    def find_spec(self, name, path, target=None):
        if name == 'tensorflow.contrib' or name.startswith('tensorflow.contrib.'):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def install_tf1_shims():
    """Apply shims 1-4 of the module docstring; switch TF to v1 behaviour."""
    import numpy as np
    import tensorflow.compat.v1 as tf
    from tensorflow.python.framework import ops, tensor
    tf.disable_v2_behavior()
    sys.meta_path.insert(0, _ContribStub())
    for name, value in (('int', int), ('float', float), ('bool', bool),
                        ('object', object)):
        if not hasattr(np, name):
            setattr(np, name, value)
    if not hasattr(ops, 'Tensor'):
        ops.Tensor = tensor.Tensor
    import object_detection.nets
    sys.modules['nets'] = object_detection.nets


def _variable_behind(tensor, variables):
    """The variable a read tensor comes from (walks Identity/read ops)."""
    while tensor.op.name not in variables:
        tensor = tensor.op.inputs[0]
    return variables[tensor.op.name]


def calibrate_batch_norm(sess, images_ph, images):
    """Set each fused batch norm's moving mean/variance, in graph order, to the
    moments of its input on `images` ([N, H, W, 3] float32 raw pixels).
    Same reason as make_odapi_export.calibrate_batch_norm. Returns the count."""
    import tensorflow.compat.v1 as tf
    graph = tf.get_default_graph()
    variables = {v.op.name: v for v in tf.global_variables()}
    bn_ops = [op for op in graph.get_operations()
              if op.type.startswith('FusedBatchNorm')]
    if not bn_ops:
        raise RuntimeError('no FusedBatchNorm op found to calibrate')
    # inputs of FusedBatchNorm: x, scale, offset, mean, variance
    moments = [tf.nn.moments(op.inputs[0], axes=[0, 1, 2]) for op in bn_ops]
    for op, (mean, variance) in zip(bn_ops, moments, strict=True):
        mean_value, variance_value = sess.run(
            [mean, variance], {images_ph: images})
        _variable_behind(op.inputs[3], variables).load(mean_value, sess)
        _variable_behind(op.inputs[4], variables).load(variance_value, sess)
    return len(bn_ops)


def save_random_checkpoint(config, ckpt_dir, seed, size):
    """Build the TF1 graph, init it with seed, calibrate its batch norms on
    seeded noise images, save model.ckpt (with global_step, which the TF1
    exporter restores). Returns (checkpoint prefix, number of batch norms)."""
    import tensorflow.compat.v1 as tf
    from object_detection.builders import model_builder
    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        model = model_builder.build(config.model, is_training=False)
        images_ph = tf.placeholder(tf.float32, [None, size, size, 3])
        preprocessed, shapes = model.preprocess(images_ph)
        model.postprocess(model.predict(preprocessed, shapes), shapes)
        tf.train.get_or_create_global_step()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            n_bn = calibrate_batch_norm(
                sess, images_ph, common.calibration_images(seed, size))
            prefix = tf.train.Saver().save(
                sess, os.path.join(ckpt_dir, 'model.ckpt'))
    return prefix, n_bn


def export_frozen(config, prefix, out_dir):
    """Run the TF1 exporter; copy frozen_inference_graph.pb and
    pipeline.config into out_dir (replacing what is there)."""
    import tensorflow.compat.v1 as tf
    from object_detection import exporter
    exporter.profile_inference_graph = lambda graph: None  # shim 5
    with tempfile.TemporaryDirectory() as tmp:
        with tf.Graph().as_default():
            exporter.export_inference_graph('image_tensor', config, prefix, tmp)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.makedirs(out_dir)
        for name in ('frozen_inference_graph.pb', 'pipeline.config'):
            shutil.copy(os.path.join(tmp, name), out_dir)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--depth-multiplier', default='0.25')
    parser.add_argument('--classes', default=','.join(common.DEFAULT_CLASSES),
                        help='comma-separated class names, id 1 first')
    args = parser.parse_args(argv)
    common.check_environment()
    install_tf1_shims()
    class_names = args.classes.split(',')
    # Same config as the TF2 export, with the slim (TF1) feature extractor.
    text = common.pipeline_text(len(class_names), args.size,
                                args.depth_multiplier)
    config = common.parse_pipeline(
        text.replace('"ssd_mobilenet_v2_keras"', '"ssd_mobilenet_v2"'))
    with tempfile.TemporaryDirectory() as ckpt_dir:
        prefix, n_bn = save_random_checkpoint(
            config, ckpt_dir, args.seed, args.size)
        export_frozen(config, prefix, args.out_dir)
    with open(os.path.join(args.out_dir, 'label_map.pbtxt'), 'w') as f:
        f.write(common.label_map_text(class_names))
    print('exported %s (%d batch norms calibrated, seed %d)'
          % (args.out_dir, n_bn, args.seed))


if __name__ == '__main__':
    main()
