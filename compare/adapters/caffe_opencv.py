"""Kind ``opencv-dnn``: OpenCV's DNN module running a Caffe SSD's prototxt and
caffemodel (``cv2.dnn.readNetFromCaffe``, its default CPU backend, layer
fusion and Winograd on): the reference detector for kind ``caffe``
(:mod:`compare.adapters.caffe_ssd`), on the same files and the same input.

# OpenCV emits (1, 1, keep_top_k * B, 7) rows [image, label, score, x_min,
# y_min, x_max, y_max], normalized, sorted by score over all classes, zeros
# after the kept rows; regrouped here into Caffe's order (by class, stable)
# and converted as kind caffe's (compare.adapters.caffe_spec).

The DetectionOutput's settings (for the class count and names) are read from
the prototxt by :mod:`replicate.caffe.prototxt`; OpenCV applies its own. At
load the caffemodel must pass our strict reader (:mod:`replicate.caffe.caffemodel`)
before OpenCV parses it, and the network runs once on a zero image (OpenCV
checks blobs against layers only when it runs), so a bad file fails at load.
Stages: preprocess (``cv2.dnn.blobFromImages`` on the BGR images),
inference (``net.forward`` up to and including DetectionOutput; OpenCV runs
its NMS inside the network, so postprocess only converts the rows).
"""
import numpy as np

from compare.adapters import caffe_spec
from compare.detections import DetectorInfo, Prediction
from compare.errors import UserError
from provenance.stamp import file_sha256

KIND = 'opencv-dnn'


class OpenCVDNNAdapter:
    """A Caffe SSD run by OpenCV's DNN behind the adapter interface."""
    order = 'class_then_score'

    def __init__(self, name, spec):
        self.name, self.spec = name, spec
        self.net = self.settings = self.names = self.weights_sha256 = None
        self.insize = self.head = self.bottoms = None

    def load(self):
        from replicate.caffe import caffemodel, detection_output, opencv, prototxt
        try:
            import cv2  # noqa: F401
        except ImportError as exc:
            raise UserError('opencv-dnn needs OpenCV (cv2 not importable: {}); the project '
                            'pins opencv-python-headless'.format(exc)) from None
        spec = prototxt.read(self.spec.prototxt)
        heads = [layer for layer in spec.layers if layer.type == 'DetectionOutput']
        if len(heads) != 1 or len(heads[0].bottoms) != 3:
            raise UserError('{}: an SSD deploy prototxt has one DetectionOutput layer with '
                            'three bottoms'.format(self.spec.prototxt))
        self.settings = detection_output.settings_from(heads[0])
        producers = {top: layer.name for layer in spec.layers for top in layer.tops}
        missing = [b for b in heads[0].bottoms if b not in producers]
        if missing:
            raise UserError('{}: the DetectionOutput\'s bottom {!r} is not produced by a '
                            'layer'.format(self.spec.prototxt, missing[0]))
        self.head, self.bottoms = heads[0].name, [producers[b] for b in heads[0].bottoms]
        self.insize = tuple(spec.input_shape[2:])
        # the file goes to OpenCV's parser only once our strict reader accepts it
        caffemodel.read(self.spec.caffemodel)
        self.net = opencv.load_net(self.spec.prototxt, self.spec.caffemodel, exact=False)
        # OpenCV checks blobs against layers only when it runs: run once now, so
        # that a file it cannot run fails here, not on the first image
        opencv.forward(self.net, np.zeros((1, 3) + self.insize, np.float32), [self.head],
                       quiet=True)
        self.names = caffe_spec.label_names(self.spec, self.settings)
        self.weights_sha256 = file_sha256(self.spec.caffemodel)

    def _run(self, images, timer, names):
        import cv2

        from replicate.caffe import opencv
        from replicate.caffe.preprocess import rgb_to_bgr
        with timer('preprocess'):
            sizes = [image.shape[:2] for image in images]
            # (H, W, 3) uint8 RGB -> BGR -> blobFromImages (resize, mean, NCHW)
            blob = cv2.dnn.blobFromImages([rgb_to_bgr(image) for image in images], 1.0,
                                          (self.insize[1], self.insize[0]), self.spec.mean,
                                          False, False)
        with timer('inference'):
            outputs = opencv.forward(self.net, blob, names)
        return outputs, sizes

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        from compare.adapters.protocol import StageTimer
        from replicate.caffe import opencv
        timer = StageTimer()
        outputs, sizes = self._run(images, timer, [self.head])
        with timer('postprocess'):
            found = opencv.detections(outputs[self.head], len(images))
            detections = [caffe_spec.detections(f, size, self.settings, self.names)
                          for f, size in zip(found, sizes, strict=True)]
        return Prediction(detections, timer.times)

    def predict_candidates(self, images):
        """OpenCV's loc, conf and prior blobs decoded by our DetectionOutput's
        decoding, before NMS (:mod:`compare.adapters.common_nms`)."""
        from compare.adapters.protocol import StageTimer
        from replicate.caffe.detection_output import before_nms
        timer = StageTimer()
        outputs, _ = self._run(images, timer, self.bottoms)
        loc, conf, priors = (outputs[name] for name in self.bottoms)
        found = []
        with timer('postprocess'):
            for one_loc, one_conf in zip(loc.reshape(len(images), -1),
                                         conf.reshape(len(images), -1), strict=True):
                boxes, scores = before_nms(self.settings, one_loc, one_conf, priors)
                found.append(caffe_spec.candidates(boxes, scores, self.names))
        return found, timer.times

    def info(self):
        import cv2
        details = {'library': 'OpenCV {} DNN (cv2.dnn.readNetFromCaffe; default CPU backend, '
                              'layer fusion and Winograd on)'.format(cv2.__version__),
                   'stages': 'preprocess=cv2.dnn.blobFromImages, inference=net.forward '
                             '(DetectionOutput included), postprocess=rows to detections',
                   'preset': 'none (the prototxt\'s DetectionOutput settings, as OpenCV '
                             'applies them)'}
        if self.settings is not None:
            details.update(caffe_spec.common_info(self.spec, self.settings, self.insize))
        return DetectorInfo(
            name=self.name, weights=self.spec.weights_label(),
            weights_sha256=self.weights_sha256, random_weights=False, device='CPU (OpenCV)',
            threads='{} (cv2.getNumThreads)'.format(cv2.getNumThreads()),
            label_names=tuple(self.names or ()), info=details)


def build(arg, options, settings):
    """``opencv-dnn:PROTOTXT,weights=CAFFEMODEL[,labels=..][,mean=..]`` or
    ``opencv-dnn:res10-face``."""
    spec = caffe_spec.parse(KIND, arg, options)
    return OpenCVDNNAdapter(options.pop('name', spec.default_name(KIND)), spec)

