"""SSD-MobileNetV2 as the OD API builds it, from its ``pipeline.config``:
extractor + box predictor + box coder (+ preprocessing and post-processing).
"""
import os

import chainer
import numpy as np
from chainer.backends import cuda

from replicate.odapi import anchors, checkpoint, postprocess, preprocess
from replicate.odapi.box_predictor import ConvolutionalBoxPredictor
from replicate.odapi.coder import BoxCoder
from replicate.odapi.config import read_pipeline
from replicate.odapi.errors import ExportError
from replicate.odapi.feature_maps import SSDMobileNetV2Extractor
from replicate.ssd.preprocess import check_images


class SSDMobileNetV2(chainer.Chain):
    """The OD API's ``ssd_mobilenet_v2_keras`` SSD in Chainer.

    Args:
        config (replicate.odapi.config.SSDConfig): from :func:`read_pipeline`.

    Attributes:
        config: the config. coder (BoxCoder): anchors and codes; follows the
        model's device. extractor, multibox: the links.
    """

    def __init__(self, config):
        super().__init__()
        self.config = config
        with self.init_scope():
            self.extractor = SSDMobileNetV2Extractor(config.feature_extractor,
                                                     config.image_size)
            self.multibox = ConvolutionalBoxPredictor(
                self.extractor.channels, anchors.boxes_per_location(config.anchors),
                config.num_classes + 1, config.box_predictor.kernel_size,
                config.box_predictor.box_code_size)
        self.coder = BoxCoder(
            anchors.generate(config.anchors, self.extractor.grids, config.image_size),
            config.scale_factors, config.matcher, config.image_size)

    @classmethod
    def from_export(cls, export_dir):
        """The model of an OD API TF2 export folder, with its weights.

        Raises:
            ExportError, ConfigError, ExportWeightsError: see
            :mod:`replicate.odapi.checkpoint` and :mod:`replicate.odapi.config`.
        """
        pipeline = os.path.join(export_dir, 'pipeline.config')
        if not os.path.isfile(pipeline):
            raise ExportError('{} has no pipeline.config: pass an OD API export folder (the '
                              'one holding pipeline.config and saved_model/)'.format(export_dir))
        model = cls(read_pipeline(pipeline))
        prefix = checkpoint.find_variables(export_dir)
        checkpoint.load_variables(model, checkpoint.read_variables(prefix), prefix)
        return model

    @property
    def image_size(self):
        """The network input (height, width)."""
        return self.config.image_size

    @property
    def insize(self):
        """The side of the square network input (what ``replicate.train`` uses).

        Raises:
            ValueError: the config's input is not square.
        """
        height, width = self.image_size
        if height != width:
            raise ValueError('this model takes {}x{} inputs; insize needs a square one'.format(
                height, width))
        return height

    @property
    def n_fg_class(self):
        return self.config.num_classes

    @property
    def mean(self):
        """float32 (3, 1, 1): the pixel value the normalization maps to 0
        (127.5), the canvas colour of ``replicate.train``'s zoom out."""
        return np.full((3, 1, 1), 127.5, dtype=np.float32)

    @staticmethod
    def normalize_pixels(img):
        """float (3, H, W) in [0, 255] -> float32 in [-1, 1], no resize (the
        first half of :meth:`_prepare`, for inputs already at the network's size)."""
        return preprocess.normalize(img)

    def device_resident_accept(self, visitor):
        """Move the anchors with the parameters."""
        super().device_resident_accept(visitor)
        self.coder.to_device(self.device)

    def forward(self, x):
        """Network outputs for a batch of prepared images.

        Args:
            x: float32 (B, 3, H, W) in [-1, 1], (H, W) = :attr:`image_size`.

        Returns:
            (box_encodings, class_predictions): Variables float32 (B, K, 4)
            codes (ty, tx, th, tw) and float32 (B, K, num_classes + 1)
            logits, class 0 the background.
        """
        if tuple(x.shape[2:]) != tuple(self.image_size):
            raise ValueError('inputs must be {}x{} (the fixed_shape_resizer), got {}x{}'.format(
                *self.image_size, *x.shape[2:]))
        return self.multibox(self.extractor(x))

    def _prepare(self, img):
        """(3, H, W) image in [0, 255] -> float32 (3, height, width) in [-1, 1]."""
        return preprocess.prepare(img, self.image_size)

    def detect(self, box_encodings, class_predictions):
        """Post-processing of one image's network outputs (host arrays).

        Args:
            box_encodings: float32 (K, 4). class_predictions: float32 (K, C + 1).

        Returns:
            dict: ``decoded`` float32 (K, 4) normalized boxes before NMS,
            ``scores_all`` float32 (K, C + 1) converted scores (background
            first), plus the detections of
            :func:`replicate.odapi.postprocess.multiclass_nms` (``boxes``,
            ``classes``, ``scores``, ``anchor_indices``; normalized).
        """
        pp = self.config.post_processing
        decoded = cuda.to_cpu(self.coder.decode(self.coder.xp.asarray(box_encodings)))
        scores = postprocess.convert_scores(cuda.to_cpu(class_predictions), pp.score_converter,
                                            pp.logit_scale)
        out = postprocess.multiclass_nms(decoded, scores[:, 1:], pp)
        out.update(decoded=decoded, scores_all=scores)
        return out

    def detect_images(self, imgs):
        """:meth:`detect` of each raw image, as :meth:`predict` computes it.

        Args:
            imgs: non-empty list of numpy (3, H, W) RGB images, values in [0, 255].

        Returns:
            list of dict (see :meth:`detect`), boxes normalized to each image.
        """
        check_images(imgs)
        x = self.xp.stack([self.device.send(self._prepare(img)) for img in imgs])
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            box_encodings, class_predictions = self.forward(x)
        return [self.detect(locs, confs) for locs, confs in
                zip(box_encodings.array, class_predictions.array, strict=True)]

    def predict(self, imgs):
        """Detect objects in images of any size.

        Args:
            imgs: non-empty list of numpy (3, H, W) RGB images, values in [0, 255].

        Returns:
            (bboxes, labels, scores): lists with one numpy array per image:
            float32 (R, 4) boxes (y_min, x_min, y_max, x_max) in that image's
            pixels, int32 (R,) labels in [0, num_classes), float32 (R,)
            scores, by decreasing score.

        Raises:
            replicate.errors.InputError (a ValueError): bad ``imgs``.
        """
        results = ([], [], [])
        for out, img in zip(self.detect_images(imgs), imgs, strict=True):
            values = (to_pixels(out['boxes'], img.shape[1:]), out['classes'], out['scores'])
            for result, value in zip(results, values, strict=True):
                result.append(value)
        return results


def to_pixels(boxes, size):
    """Normalized boxes float32 (R, 4) -> pixels of an image of ``size`` (H, W)."""
    height, width = size
    return boxes * np.array([height, width, height, width], dtype=np.float32)
