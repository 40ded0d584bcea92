"""SSD as a composition: extractor + multibox head + coder (+ preprocessing)."""
from dataclasses import dataclass

import chainer
import numpy as np
from chainer.backends import cuda

from replicate.ssd.channels_last import workspace
from replicate.ssd.coder import MultiboxCoder
from replicate.ssd.preprocess import (
    RESIZE_BACKENDS,
    check_images,
    check_resize_backend,
    prepare,
    resize_backend_in_use,
)


@dataclass(frozen=True)
class Preset:
    nms_thresh: float
    score_thresh: float
    # Caffe-style caps (see replicate.ssd.nms.multiclass_nms); None = no cap
    nms_top_k: int = None  # candidates per class entering NMS
    keep_top_k: int = None  # detections per image after NMS


#: 'visualize' and 'evaluate' are ChainerCV's (results identical to its
#: predict); 'evaluate-caffe' adds the caps of the original Caffe SSD's test
#: settings: the 400 best candidates per class enter NMS, the 200 best
#: detections per image are kept. The caps bound the work on weak models
#: whose scores pass 0.01 everywhere, and drop low-scoring detections.
PRESETS = {'visualize': Preset(0.45, 0.6), 'evaluate': Preset(0.45, 0.01),
           'evaluate-caffe': Preset(0.45, 0.01, nms_top_k=400, keep_top_k=200)}


class SSD(chainer.Chain):
    """Single Shot MultiBox Detector (Liu et al., ECCV 2016).

    Args:
        extractor: link with ``insize`` (int), ``grids`` (side of each source
            map) and ``forward(x) -> list of (B, C_k, G_k, G_k)`` maps.
        multibox: link with ``n_class`` (background included),
            ``aspect_ratios`` and ``forward(maps) -> (mb_locs, mb_confs)``.
        steps, sizes, variance: default box geometry, see
            :class:`replicate.MultiboxCoder`.
        mean: RGB mean subtracted after resizing, broadcastable to (3, 1, 1).
        resize_backend (str or None): 'cv2', 'PIL', or None (the default) to
            follow ``chainer.config.cv_resize_backend`` at each call exactly
            as ChainerCV does (:mod:`replicate.ssd.preprocess`); stored as
            :attr:`resize_backend`.

    Attributes:
        nms_thresh, score_thresh (float), nms_top_k, keep_top_k (int or
            None): used by :meth:`predict`; set by :meth:`use_preset`
            ('visualize' on construction).
        coder (MultiboxCoder): follows the model's device.
    """

    def __init__(self, extractor, multibox, steps, sizes, variance=(0.1, 0.2),
                 mean=0, resize_backend=None):
        super().__init__()
        self.mean = mean
        self.resize_backend = check_resize_backend(resize_backend)
        self.use_preset('visualize')
        with self.init_scope():
            self.extractor = extractor
            self.multibox = multibox
        self.coder = MultiboxCoder(extractor.grids, multibox.aspect_ratios,
                                   steps, sizes, variance)

    @property
    def insize(self):
        return self.extractor.insize

    @property
    def n_fg_class(self):
        return self.multibox.n_class - 1

    def device_resident_accept(self, visitor):
        """Move the coder's default boxes with the parameters (to_device,
        to_cpu, to_gpu all come through here)."""
        super().device_resident_accept(visitor)
        self.coder.to_device(self.device)

    def forward(self, x):
        """Network outputs for a batch of prepared images.

        Args:
            x: float32 (B, 3, insize, insize), RGB minus the mean.

        Returns:
            (mb_locs, mb_confs): Variables, float32 (B, K, 4) offsets
            (dy, dx, dh, dw) and float32 (B, K, n_fg_class + 1) logits,
            class 0 = background; K = 8732 for SSD300.
        """
        # CPU: the layers share their large temporaries (replicate.ssd.channels_last)
        with workspace():
            return self.multibox(self.extractor(x))

    def use_preset(self, preset):
        """Set ``nms_thresh``, ``score_thresh``, ``nms_top_k`` and
        ``keep_top_k`` from a named preset (see :data:`PRESETS`): 'visualize'
        (0.45, 0.6), 'evaluate' (0.45, 0.01) or 'evaluate-caffe' (0.45, 0.01,
        400, 200)."""
        if preset not in PRESETS:
            raise ValueError('unknown preset {!r}; valid presets: {}'.format(
                preset, ', '.join(sorted(PRESETS))))
        chosen = PRESETS[preset]
        self.nms_thresh, self.score_thresh = chosen.nms_thresh, chosen.score_thresh
        self.nms_top_k, self.keep_top_k = chosen.nms_top_k, chosen.keep_top_k

    def _prepare(self, img):
        """(3, H, W) image -> float32 (3, insize, insize) network input."""
        resize = RESIZE_BACKENDS[resize_backend_in_use(self.resize_backend)]
        return prepare(img, self.insize, self.mean, resize)

    def _to_input_pixels(self, bbox, size):
        """Boxes in insize x insize pixels -> boxes in an (H, W) image."""
        y_scale = float(size[0]) / self.insize
        x_scale = float(size[1]) / self.insize
        scale = self.xp.array([y_scale, x_scale, y_scale, x_scale], dtype=bbox.dtype)
        return bbox * scale

    def prepare_batch(self, imgs):
        """Stage 1 of :meth:`predict`: check, resize and stack the images.

        Args:
            imgs: as for :meth:`predict`.

        Returns:
            (x, sizes): float32 (B, 3, insize, insize) on the model's device,
            and the (H, W) of each input image.
        """
        check_images(imgs)
        sizes = [img.shape[1:] for img in imgs]
        x = self.xp.stack([self.device.send(self._prepare(img)) for img in imgs])
        return x, sizes

    def postprocess(self, mb_locs, mb_confs, sizes):
        """Stage 3 of :meth:`predict`: decode, suppress, rescale, copy to host.

        Args:
            mb_locs, mb_confs: arrays (not Variables) from :meth:`forward`.
            sizes: the (H, W) of each image, as :meth:`prepare_batch` returns.

        Returns:
            (bboxes, labels, scores) as :meth:`predict` returns them.
        """
        results = ([], [], [])
        for mb_loc, mb_conf, size in zip(mb_locs, mb_confs, sizes, strict=True):
            bbox, label, score = self.coder.decode(
                mb_loc, mb_conf, self.nms_thresh, self.score_thresh, self.nms_top_k,
                self.keep_top_k)
            bbox = self._to_input_pixels(bbox, size)
            for out, array in zip(results, (bbox, label, score), strict=True):
                out.append(cuda.to_cpu(array))
        return results

    def predict(self, imgs):
        """Detect objects in images of any size.

        The three stages are public (:meth:`prepare_batch`, :meth:`forward`,
        :meth:`postprocess`) so that they can be timed one by one.

        Args:
            imgs: non-empty list of numpy (3, H, W) RGB images, values in
                [0, 255], any real dtype (converted to float32).

        Returns:
            (bboxes, labels, scores): lists with one numpy array per image:
            float32 (R, 4) boxes (y_min, x_min, y_max, x_max) in that image's
            pixels, int32 (R,) labels in [0, n_fg_class), float32 (R,)
            scores. Boxes are grouped by class, by descending score inside.

        Raises:
            replicate.errors.InputError (a ValueError): bad ``imgs``.
        """
        x, sizes = self.prepare_batch(imgs)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            mb_locs, mb_confs = self.forward(x)
        return self.postprocess(mb_locs.array, mb_confs.array, sizes)

    def info(self):
        """Settings that change results, as a dict of str -> str."""
        setting = ('chainer.config.cv_resize_backend={}'.format(
            getattr(chainer.config, 'cv_resize_backend', None))
            if self.resize_backend is None else 'resize_backend={}'.format(self.resize_backend))
        return {'resize_backend': '{} ({})'.format(resize_backend_in_use(self.resize_backend),
                                                   setting),
                'nms_thresh': str(self.nms_thresh),
                'score_thresh': str(self.score_thresh), 'nms_top_k': str(self.nms_top_k),
                'keep_top_k': str(self.keep_top_k),
                'mean': str(np.asarray(self.mean).ravel().tolist())}
