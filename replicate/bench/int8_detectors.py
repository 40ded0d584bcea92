"""The trained detectors that packages ship, as ``tools/int8_packaged.py``
quantizes them: each one's network in Chainer (the float32 reference, and
what is exported to ONNX), its own preprocessing and its own post-processing.

- ``res10-face``: OpenCV's Caffe SSD300 face detector (ResNet-10 base) in
  :mod:`replicate.caffe`; its third output, the constant prior boxes, is
  taken from the Chainer forward and never exported.
- ``ssdlite-person``: the TF1 OD API SSDLite-MobileNetV2 person detector in
  :mod:`replicate.odapi` (reading the graph needs TensorFlow's protobuf
  classes, nothing of TensorFlow is run).

Images are ``(H, W, 3)`` uint8 RGB. Detections are ``(bboxes, labels,
scores)`` of one image: float32 (R, 4) ``(y_min, x_min, y_max, x_max)`` in
that image's pixels, int32 (R,) 0-based labels, float32 (R,) scores.

:data:`CALIBRATION_PHOTOS`: two photographs that scikit-learn ships (an
installed dependency of NNCF), checked by SHA-256 like the model files; they
show neither a face nor a person, so they calibrate int8 on other images
than those it is measured on.
"""
import chainer
import numpy as np

from replicate.packaged import PackagedFile, verified_path
from replicate.parity.inputs import read_rgb

#: name -> the photograph inside scikit-learn (CC BY 2.0; attribution in its
#: ``sklearn/datasets/images/README.txt``).
CALIBRATION_PHOTOS = {
    'china.jpg': PackagedFile(
        'scikit-learn', '1.7.2', 'sklearn/datasets/images/china.jpg',
        '8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29',
        'CC BY 2.0 (danielbuechele on Flickr)', 'a temple in a Chinese garden, 427x640'),
    'flower.jpg': PackagedFile(
        'scikit-learn', '1.7.2', 'sklearn/datasets/images/flower.jpg',
        'a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638',
        'CC BY 2.0 (vultilion on Flickr)', 'a flower close up, 427x640'),
}

#: Centre crops of :func:`views`: the kept fraction of each side.
CROPS = (1.0, 0.75, 0.5)


def calibration_photos():
    """The verified :data:`CALIBRATION_PHOTOS`, read: list of (H, W, 3) uint8."""
    return [read_rgb(verified_path(CALIBRATION_PHOTOS[name]))
            for name in sorted(CALIBRATION_PHOTOS)]


def views(image):
    """Six inputs from one image: the centre crops of :data:`CROPS`, each as
    it is and mirrored left to right; (H', W', 3) uint8 arrays, contiguous."""
    height, width = image.shape[:2]
    out = []
    for keep in CROPS:
        h, w = max(1, round(height * keep)), max(1, round(width * keep))
        top, left = (height - h) // 2, (width - w) // 2
        crop = image[top:top + h, left:left + w]
        out += [np.ascontiguousarray(crop), np.ascontiguousarray(crop[:, ::-1])]
    return out


def _forward(model, x):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return tuple(v.array for v in model.forward(x))


class FaceSSD:
    """``res10-face`` in :mod:`replicate.caffe`.

    Attributes:
        model (:class:`replicate.caffe.CaffeSSD`); size: (H, W) of its input;
        label_names: ``('face',)``; what: one line for reports.
    """
    name = 'res10-face'

    def __init__(self):
        from replicate.caffe import load
        from replicate.caffe.models import resolve
        prototxt, caffemodel, entry = resolve(self.name)
        self.model = load(prototxt, caffemodel, entry.mean)
        self.size, self.label_names, self.what = self.model.insize, entry.label_names, entry.what
        self._priors = None

    def prepare(self, image):
        """(H, W, 3) uint8 RGB -> float32 (1, 3, 300, 300), BGR minus the mean."""
        from replicate.caffe.preprocess import rgb_to_bgr
        return self.model.prepare([rgb_to_bgr(image)])

    def forward(self, x):
        """The Chainer reference: (loc, conf) host arrays (the priors are kept)."""
        loc, conf, self._priors = _forward(self.model, x)
        return loc, conf

    def detect(self, outputs, size):
        """(loc (1, P * 4), conf (1, P * 2)) of one image of ``size`` (H, W) ->
        its detections (DetectionOutput with the prototxt's settings)."""
        from replicate.caffe.ssd import to_pixels
        if self._priors is None:
            raise RuntimeError('call forward once first: it computes the prior boxes')
        found = self.model.detect(outputs[0], outputs[1], self._priors)[0]
        foreground = {c: i for i, c in enumerate(self.model.settings.foreground)}
        labels = np.array([foreground[int(c)] for c in found['labels']], dtype=np.int32)
        return to_pixels(found['boxes'], size), labels, found['scores']


class SSDLitePerson:
    """``ssdlite-person`` in :mod:`replicate.odapi` (same attributes as :class:`FaceSSD`)."""
    name = 'ssdlite-person'

    def __init__(self):
        from replicate.odapi import SlimSSDMobileNetV2
        from replicate.packaged import PACKAGED, packaged_path
        key = 'ssdlite_mobilenet_v2_person.pb'
        self.model = SlimSSDMobileNetV2.from_frozen_graph(packaged_path(key))
        entry = PACKAGED[key]
        self.size, self.label_names = tuple(self.model.image_size), ('person',)
        self.what = '{} ({} {}, {})'.format(entry.what, entry.distribution, entry.version,
                                            entry.licence)

    def prepare(self, image):
        """(H, W, 3) uint8 RGB -> float32 (1, 3, 300, 300) in [-1, 1]."""
        return self.model._prepare(image.transpose(2, 0, 1))[None]

    def forward(self, x):
        """The Chainer reference: (box_encodings (B, K, 4), class_predictions
        (B, K, 2)) host arrays."""
        return _forward(self.model, x)

    def detect(self, outputs, size):
        """The two outputs of one image (batch of 1) -> its detections (the
        graph's score converter and per-class NMS)."""
        from replicate.odapi.ssd import to_pixels
        found = self.model.detect(outputs[0][0], outputs[1][0])
        return (to_pixels(found['boxes'], size), found['classes'].astype(np.int32),
                found['scores'])


#: name -> class, in report order.
DETECTORS = {'res10-face': FaceSSD, 'ssdlite-person': SSDLitePerson}
