"""Kind ``caffe``: a Caffe SSD (W. Liu's layers) built in Chainer by
:mod:`replicate.caffe` from its deploy prototxt and caffemodel; the same
files run by OpenCV are kind ``opencv-dnn`` (:mod:`compare.adapters.caffe_opencv`).

Spec, class names, preprocessing and the conversion of Caffe's detections:
:mod:`compare.adapters.caffe_spec`. Stages: preprocess (RGB -> BGR, the
blobFromImage-style resize and mean, stacking), inference (the network up to
the DetectionOutput layer), postprocess (DetectionOutput: decoding and NMS
with the prototxt's settings, as Caffe does it; boxes to pixels, clipped).
Thresholds and caps are the prototxt's (no presets).
"""
import chainer

from compare.adapters import caffe_spec
from compare.adapters.chainer_weights import params_sha256
from compare.adapters.protocol import StageTimer, check_finite, numpy_threads
from compare.detections import DetectorInfo, Prediction
from provenance.stamp import file_sha256

KIND = 'caffe'


class CaffeSSDAdapter:
    """A Caffe SSD in Chainer behind the adapter interface
    (:mod:`compare.adapters.protocol`).

    Args:
        name: detector name. spec: :class:`compare.adapters.caffe_spec.CaffeSpec`.
    """
    order = 'class_then_score'

    def __init__(self, name, spec):
        self.name, self.spec = name, spec
        self.model = self.names = self.weights_sha256 = None

    def load(self):
        from replicate.caffe import load
        self.model = load(self.spec.prototxt, self.spec.caffemodel, self.spec.mean)
        self.names = caffe_spec.label_names(self.spec, self.model.settings)
        self.weights_sha256 = file_sha256(self.spec.caffemodel)

    def _forward(self, images, timer):
        """``(loc, conf, priors)`` host arrays and the image sizes."""
        from replicate.caffe.preprocess import rgb_to_bgr
        model = self.model
        with timer('preprocess'):
            sizes = [image.shape[:2] for image in images]
            # (H, W, 3) uint8 RGB -> BGR -> (B, 3, h, w) float32 minus the mean
            x = model.prepare([rgb_to_bgr(image) for image in images])
        with timer('inference'):
            with chainer.using_config('train', False), chainer.no_backprop_mode():
                outputs = [v.array for v in model.forward(x)]
        check_finite(model.xp, *outputs)
        return [chainer.backends.cuda.to_cpu(a) for a in outputs], sizes

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        timer = StageTimer()
        (loc, conf, priors), sizes = self._forward(images, timer)
        with timer('postprocess'):
            found = self.model.detect(loc, conf, priors)
            detections = [caffe_spec.detections(f, size, self.model.settings, self.names)
                          for f, size in zip(found, sizes, strict=True)]
        return Prediction(detections, timer.times)

    def predict_candidates(self, images):
        """Every prior decoded, before NMS (:mod:`compare.adapters.common_nms`)."""
        from replicate.caffe.detection_output import before_nms
        timer = StageTimer()
        (loc, conf, priors), _ = self._forward(images, timer)
        found = []
        with timer('postprocess'):
            for one_loc, one_conf in zip(loc, conf, strict=True):
                boxes, scores = before_nms(self.model.settings, one_loc, one_conf, priors)
                found.append(caffe_spec.candidates(boxes, scores, self.names))
        return found, timer.times

    def info(self):
        details = {'library': 'replicate.caffe (this repository): the prototxt built in '
                              'Chainer {}'.format(chainer.__version__),
                   'stages': 'preprocess=blobFromImage-style resize and mean, inference=the '
                             'network up to DetectionOutput, postprocess=DetectionOutput '
                             '(decode + per-class NMS, as Caffe)',
                   'preset': 'none (the prototxt\'s DetectionOutput settings)'}
        if self.model is not None:
            details.update(caffe_spec.common_info(self.spec, self.model.settings,
                                                  self.model.insize))
            details['params_sha256'] = params_sha256(self.model)
            details['unused_caffemodel_layers'] = [n for n, _, _ in self.model.net.unused]
        return DetectorInfo(
            name=self.name, weights=self.spec.weights_label(),
            weights_sha256=self.weights_sha256, random_weights=False, device='CPU (@numpy)',
            threads=numpy_threads(), label_names=tuple(self.names or ()), info=details)


def build(arg, options, settings):
    """``caffe:PROTOTXT,weights=CAFFEMODEL[,labels=..][,mean=..]`` or ``caffe:res10-face``."""
    spec = caffe_spec.parse(KIND, arg, options)
    return CaffeSSDAdapter(options.pop('name', spec.default_name(KIND)), spec)
