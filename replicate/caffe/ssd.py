"""A Caffe SSD (W. Liu's layers: Normalize, PriorBox, DetectionOutput) as a
Chainer model: :class:`CaffeSSD` and :func:`load`.

The network up to the DetectionOutput layer is a
:class:`~replicate.caffe.net.CaffeNet` built from the prototxt and filled
from the caffemodel; the DetectionOutput layer (decoding and NMS) is plain
numpy code after it (:mod:`replicate.caffe.detection_output`), as
replicate's coder follows its SSD. Preprocessing is OpenCV's
``blobFromImage`` (:mod:`replicate.caffe.preprocess`).
"""
import chainer
import numpy as np

from replicate.caffe import caffemodel, detection_output, preprocess, prototxt
from replicate.caffe.errors import CaffeError
from replicate.caffe.net import CaffeNet
from replicate.ssd.channels_last import workspace

#: The mean of W. Liu's SSD training scripts (B, G, R).
SSD_MEAN = (104.0, 117.0, 123.0)


class CaffeSSD(chainer.Chain):
    """An SSD defined by a Caffe prototxt.

    Args:
        spec: :class:`~replicate.caffe.prototxt.NetSpec` holding exactly one
            DetectionOutput layer whose bottoms are (loc, conf, priors).
        mean: B, G, R subtracted from the resized image (not in the prototxt).

    Attributes:
        net (CaffeNet); settings (DetectionSettings);
        insize: (h, w) of the input; mean: three floats (BGR).
        loc_name, conf_name, prior_name: the DetectionOutput's bottoms.
    """

    def __init__(self, spec, mean=SSD_MEAN):
        super().__init__()
        with self.init_scope():
            self.net = CaffeNet(spec)
        if len(self.net.heads) != 1:
            raise CaffeError('{}: {} DetectionOutput layers; an SSD prototxt (deploy) has one'
                             .format(spec.path, len(self.net.heads)))
        head = self.net.heads[0]
        if len(head.bottoms) != 3:
            raise head.refuse('needs three bottoms (loc, conf, priors), has {}'.format(
                len(head.bottoms)))
        for bottom in head.bottoms:
            if bottom not in self.net.shapes:
                raise head.refuse('bottom {!r} is not produced by an earlier layer'.format(
                    bottom))
        self.loc_name, self.conf_name, self.prior_name = head.bottoms
        self.settings = detection_output.settings_from(head)
        self.mean = tuple(float(m) for m in mean)
        if len(self.mean) != 3:
            raise CaffeError('mean needs three values (B, G, R), got {}'.format(mean))
        self.insize = tuple(spec.input_shape[2:])
        self._check_head_shapes(head)

    def _check_head_shapes(self, head):
        shapes, s = self.net.shapes, self.settings
        n_prior = shapes[self.prior_name][-1] // 4
        n_loc = 1 if s.share_location else s.num_classes
        loc = int(np.prod(shapes[self.loc_name][1:]))
        conf = int(np.prod(shapes[self.conf_name][1:]))
        if shapes[self.prior_name][:2] != (1, 2) or loc != n_prior * n_loc * 4 or \
                conf != n_prior * s.num_classes:
            raise head.refuse('its bottoms do not fit: {} priors, loc {} and conf {} values per '
                              'image for {} classes'.format(n_prior, loc, conf, s.num_classes))

    @property
    def n_priors(self):
        return self.net.shapes[self.prior_name][-1] // 4

    def forward(self, x):
        """The DetectionOutput's inputs for a prepared batch.

        Args:
            x: float32 (B, 3, h, w), BGR minus the mean.

        Returns:
            (loc, conf, priors): Variables, float32 (B, P * L * 4) offsets
            (x, y, w, h), (B, P * num_classes) scores (the prototxt's softmax
            applied) and (1, 2, P * 4) prior boxes and variances.
        """
        with workspace():
            blobs = self.net(x)
        return tuple(blobs[name] for name in (self.loc_name, self.conf_name, self.prior_name))

    def prepare(self, images):
        """(H, W, 3) uint8 BGR images -> float32 (B, 3, h, w) on the model's device."""
        return self.device.send(preprocess.prepare(images, self.insize, self.mean))

    def detect(self, loc, conf, priors):
        """DetectionOutput on arrays (any device): one dict per image, see
        :func:`replicate.caffe.detection_output.detect_one`."""
        to_cpu = chainer.backends.cuda.to_cpu
        return detection_output.detection_output(self.settings, to_cpu(loc), to_cpu(conf),
                                                 to_cpu(priors))

    def predict(self, images):
        """Detect objects in (H, W, 3) uint8 BGR images (as ``cv2.imread`` gives them).

        Returns:
            (bboxes, labels, scores): lists with one numpy array per image:
            float32 (R, 4) boxes (y_min, x_min, y_max, x_max) in that image's
            pixels (not clipped; Caffe's boxes may extend past the border),
            int32 (R,) Caffe class ids (the background id never appears),
            float32 (R,) scores; grouped by class, by descending score inside.
        """
        x = self.prepare(images)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            loc, conf, priors = self.forward(x)
        results = ([], [], [])
        for found, image in zip(self.detect(loc.array, conf.array, priors.array), images,
                                strict=True):
            results[0].append(to_pixels(found['boxes'], image.shape[:2]))
            results[1].append(found['labels'])
            results[2].append(found['scores'])
        return results


def to_pixels(boxes, size):
    """Normalized (x_min, y_min, x_max, y_max) float32 (R, 4) -> (y_min, x_min,
    y_max, x_max) in pixels of an image of ``size`` (H, W), float32."""
    height, width = size
    # (x_min, y_min, x_max, y_max) -> (y_min, x_min, y_max, x_max)
    yxyx = boxes[:, [1, 0, 3, 2]].astype(np.float64)
    return (yxyx * np.array([height, width, height, width], dtype=np.float64)).astype(np.float32)


def load(prototxt_path, caffemodel_path, mean=SSD_MEAN):
    """A :class:`CaffeSSD` from the two files, weights copied strictly.

    The model's ``net.unused`` lists the caffemodel's layers with blobs that
    the prototxt does not use.

    Raises:
        replicate.caffe.errors.CaffeError: either file cannot be read, the
            prototxt asks for an unsupported layer (named with its type), or
            the blobs do not fit (named with the file and layer).
    """
    spec = prototxt.read(prototxt_path)
    model = CaffeSSD(spec, mean)
    model.net.load(caffemodel.read(caffemodel_path))
    return model
