"""Build the same tiny SSD-MobileNetV2 as make_odapi_export.py, but with the
TF Object Detection API's TF1 code path (slim feature extractor
'ssd_mobilenet_v2'), and export it with the TF1 exporter
(`object_detection.exporter.export_inference_graph`) to a frozen GraphDef:
OUT_DIR/frozen_inference_graph.pb (+ pipeline.config, label_map.pbtxt).

Options:
  --input-type  image_tensor (default), encoded_image_string_tensor or
                tf_example (the TF1 exporter's input_placeholder_fn_map);
  --zoo-layout  keep everything the exporter writes, as the TF1 model zoo
                archives hold it: frozen_inference_graph.pb, saved_model/
                (input `inputs`), model.ckpt.{data-00000-of-00001,index,meta},
                checkpoint, pipeline.config (saved_model/variables/ is empty
                and dropped: git cannot keep an empty folder);
  --no-checkpoint  with --zoo-layout, leave out model.ckpt.* and checkpoint
                (training files no loader of an exported model reads);
  --weights-from PREFIX  restore the weights of an earlier export's checkpoint
                (e.g. OUT/model.ckpt of --zoo-layout) instead of drawing and
                calibrating them, so several input types hold the same weights;
  --sign-weights  draw every convolution kernel as random signs times the
                standard deviation of its random initial values (a Rademacher
                draw of the same scale), so the three copies of the weights
                of a zoo layout compress about 20x in git; the batch norms are
                calibrated after it as usual.

Runs in the OD API environment of make_odapi_export.sh (tensorflow 2.15 in
v1 mode). That code path predates TF2; six shims make it run, each applied
explicitly in install_tf1_shims() (5: in export_frozen) and listed here:
  1. empty modules for `tensorflow.contrib.*` (module-level imports of code
     this export never calls: bipartite matcher, nasnet HParams, tfprof);
  2. numpy aliases np.int / np.float / np.bool / np.object (removed in 1.24);
  3. `tensorflow.python.framework.ops.Tensor` (moved in TF 2.14; tf_slim 1.1
     still reads it);
  4. top-level `nets` = `object_detection.nets` (slim's nets, vendored under
     object_detection in this repackaging);
  5. exporter.profile_inference_graph made a no-op (it only logs parameter
     and FLOP counts through contrib's tfprof);
  6. `control_flow_ops.case` and `.cond` (moved to their own modules in TF
     2.13; tf_slim's TFExampleDecoder, used by --input-type tf_example, still
     calls them there).

Usage: python tools/make_odapi_frozen.py OUT_DIR [--seed 0] [--input-type T]
           [--zoo-layout [--no-checkpoint]] [--sign-weights] [--weights-from PREFIX]
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
    """Apply shims 1-4 and 6 of the module docstring; switch TF to v1 behaviour."""
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
    common.install_control_flow_shim()  # shim 6
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


def sign_kernels(sess, seed):
    """Replace each convolution kernel by random signs times its own
    standard deviation (see --sign-weights). Returns the count."""
    import numpy as np
    import tensorflow.compat.v1 as tf
    rng = np.random.RandomState(seed)
    kernels = [v for v in tf.global_variables()
               if v.op.name.endswith(('weights', 'depthwise_weights', 'kernel'))]
    for variable in kernels:
        value = sess.run(variable)
        signs = rng.randint(0, 2, value.shape).astype(np.float32) * 2 - 1
        variable.load(signs * np.float32(value.std()), sess)
    return len(kernels)


def save_random_checkpoint(config, ckpt_dir, seed, size, sign_weights=False,
                           weights_from=None):
    """Build the TF1 graph, init it with seed (kernels as signs when
    sign_weights), calibrate its batch norms on seeded noise images (or
    restore the checkpoint weights_from), save model.ckpt (with global_step,
    which the TF1 exporter restores).
    Returns (checkpoint prefix, number of batch norms calibrated)."""
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
            if weights_from:
                tf.train.Saver().restore(sess, weights_from)
                n_bn = 0
            else:
                sess.run(tf.global_variables_initializer())
                if sign_weights and not sign_kernels(sess, seed):
                    raise RuntimeError('no convolution kernel found to sign')
                n_bn = calibrate_batch_norm(
                    sess, images_ph, common.calibration_images(seed, size))
            prefix = tf.train.Saver().save(
                sess, os.path.join(ckpt_dir, 'model.ckpt'))
    return prefix, n_bn


def export_frozen(config, prefix, out_dir, input_type='image_tensor',
                  zoo_layout=False, checkpoint=True):
    """Run the TF1 exporter; copy frozen_inference_graph.pb and
    pipeline.config (everything but the empty saved_model/variables/ with
    zoo_layout) into out_dir (replacing what is there)."""
    import tensorflow.compat.v1 as tf
    from object_detection import exporter
    exporter.profile_inference_graph = lambda graph: None  # shim 5
    with tempfile.TemporaryDirectory() as tmp:
        with tf.Graph().as_default():
            exporter.export_inference_graph(input_type, config, prefix, tmp)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        if zoo_layout:
            os.rmdir(os.path.join(tmp, 'saved_model', 'variables'))
            if not checkpoint:
                for name in os.listdir(tmp):
                    if name == 'checkpoint' or name.startswith('model.ckpt'):
                        os.remove(os.path.join(tmp, name))
            shutil.copytree(tmp, out_dir)
            return
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
    parser.add_argument('--input-type', default='image_tensor',
                        choices=('image_tensor', 'encoded_image_string_tensor',
                                 'tf_example'))
    parser.add_argument('--zoo-layout', action='store_true')
    parser.add_argument('--sign-weights', action='store_true')
    parser.add_argument('--weights-from', metavar='PREFIX')
    parser.add_argument('--no-checkpoint', action='store_true')
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
            config, ckpt_dir, args.seed, args.size, args.sign_weights,
            args.weights_from)
        export_frozen(config, prefix, args.out_dir, args.input_type,
                      args.zoo_layout, not args.no_checkpoint)
    with open(os.path.join(args.out_dir, 'label_map.pbtxt'), 'w') as f:
        f.write(common.label_map_text(class_names))
    print('exported %s (%s, %d batch norms calibrated, seed %d)'
          % (args.out_dir, args.input_type, n_bn, args.seed))


if __name__ == '__main__':
    main()
