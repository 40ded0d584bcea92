"""Build the timed pipelines: our SSD300 (and ChainerCV's on request) with the
same weights, preset and resize backend, on one device.

Weights come from :mod:`replicate.parity.models`: ``random`` (seeded, the
same values in both models), ``voc0712`` (ChainerCV's file: cached, else
downloaded, :mod:`replicate.ssd.pretrained`) or a path to an ``.npz`` in
ChainerCV's layout, loaded by the one strict loader (:mod:`replicate.ssd.weights`).
"""
import chainer
import numpy as np

from replicate.bench.errors import BenchError
from replicate.bench.pipelines import ChainerCVPipeline, OursChainer, OursEngine, OursOnnx
from replicate.device import check_device
from replicate.errors import UserError


def resolve_device(spec):
    """A ``chainer.get_device`` device, made current.

    Raises:
        BenchError: unknown spec, or a CuPy device where CuPy/CUDA is missing.
    """
    check_device(spec, BenchError)
    try:
        device = chainer.get_device(spec)
    except Exception as exc:  # chainer raises ValueError/TypeError for bad specs
        raise BenchError('--device {}: not a Chainer device spec ({}); use @numpy or '
                         '@cupy:N'.format(spec, exc)) from exc
    device.use()
    return device


def _weights(model, args):
    if args.weights == 'untrained':
        from replicate.bench.weights import untrained_weights
        untrained_weights(model, args.seed)
        return 'replicate.bench.weights.untrained_weights (seed {})'.format(args.seed)
    from replicate.parity import models
    try:
        path = models.resolve_weights(args.weights, args.n_fg_class)
        return models.load_weights_into(model, args.weights, path, args.seed)
    except UserError as exc:
        raise BenchError(str(exc)) from exc


def ours(args, device):
    """``(OursChainer pipeline, weights description)``; the model is
    ``pipeline.model``."""
    from replicate.ssd.ssd300 import SSD300
    try:
        model = SSD300(n_fg_class=args.n_fg_class, resize_backend=args.resize_backend)
    except ValueError as exc:  # e.g. resize backend cv2 without OpenCV
        raise BenchError('--resize-backend {}: {}'.format(args.resize_backend, exc)) from exc
    description = _weights(model, args)
    model.use_preset(args.preset)
    model.to_device(device)
    return OursChainer(model), description


def ours_onnx(model, threads=None):
    """Our model (on the CPU) exported to ONNX, as a pipeline.

    Raises:
        BenchError: onnx, onnxruntime or onnx_chainer missing or broken.
    """
    try:
        from replicate.ort.runtime import OnnxSSD
        return OursOnnx(OnnxSSD(model, threads))
    except ImportError as exc:
        raise BenchError('--onnx: {} ({}); install onnx<1.19 and onnxruntime (the project '
                         'pins both), or leave out --onnx'.format(exc, type(exc).__name__)) \
            from exc


#: Seed of the generated calibration images: not the benchmark's own images.
CALIBRATION_SEED = 1


def calibration(model, count, image_size, seed=CALIBRATION_SEED):
    """``(inputs, description)``: ``count`` generated images (alternately
    noise and shapes, :func:`replicate.parity.inputs.generated_images`, seed
    :data:`CALIBRATION_SEED`), prepared as network inputs."""
    from replicate.ort.quantize import calibration_inputs
    from replicate.parity.inputs import generated_images
    images = generated_images(count, seed, (image_size,))
    return calibration_inputs(model, images), (
        '{} generated images {}x{} (replicate.parity.inputs.generated_images, seed {}: '
        'noise and shapes alternately; not the timed images)'.format(
            count, image_size[0], image_size[1], seed))


def _openvino_error(exc, flag):
    return BenchError('{}: OpenVINO/NNCF are not importable ({}); install the project\'s '
                      'openvino extra (pip install .[openvino]) or leave out {}'.format(
                          flag, exc, flag))


def ours_openvino(model, proto, threads=None):
    """Our export run by OpenVINO in float32, as a pipeline ``ours-openvino``."""
    try:
        from replicate.ov.runtime import OpenVinoSSD
        runner = OpenVinoSSD(model, threads, proto)
    except ImportError as exc:
        raise _openvino_error(exc, '--openvino') from exc
    return OursEngine('ours-openvino', runner, 'fp32', {'threads': runner.threads})


def ours_int8_onnx(model, proto, inputs, threads=None):
    """Our export quantized by ONNX Runtime's tools, run by ONNX Runtime:
    ``ours-int8-onnx``."""
    from replicate.ort.quantize import quantize
    from replicate.ort.runtime import OnnxSSD
    data, facts = quantize(proto, inputs)
    runner = OnnxSSD(model, threads, data)
    return OursEngine('ours-int8-onnx', runner, 'int8', dict(facts, threads=runner.threads))


def ours_int8_openvino(model, proto, inputs, threads=None):
    """Our export quantized by NNCF, run by OpenVINO: ``ours-int8-openvino``."""
    try:
        from replicate.ov.quantize import quantize
        from replicate.ov.runtime import OpenVinoSSD
        fp32 = OpenVinoSSD(model, threads, proto)
        network, facts = quantize(fp32.network, inputs)
        runner = OpenVinoSSD(model, threads, network)
    except ImportError as exc:
        raise _openvino_error(exc, '--int8') from exc
    return OursEngine('ours-int8-openvino', runner, 'int8', dict(facts, threads=runner.threads))


def chainercv(args, device):
    """ChainerCV's SSD300 as a pipeline, with the same weights as :func:`ours`.

    Raises:
        BenchError: ChainerCV is not installed.
    """
    try:
        from chainercv.links import SSD300
    except ImportError as exc:
        raise BenchError('--against chainercv: ChainerCV is not importable here ({}); '
                         'install chainercv==0.13.1 or leave out --against'.format(exc)) from exc
    model = SSD300(n_fg_class=args.n_fg_class)
    _weights(model, args)
    model.use_preset(args.preset)
    if device.xp is not np:
        # ChainerCV's SSD moves its coder in to_gpu, not in to_device
        model.to_gpu(device.device.id)
    return ChainerCVPipeline(model, args.resize_backend)
