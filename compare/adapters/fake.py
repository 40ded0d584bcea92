"""A detector with no model: deterministic synthetic detections.

Used to test the harness (runner, resume, speed, CLI) without any framework.
Detections depend only on the seed and the image's pixels (a crc32 of them),
so two runs give identical rows and two images give different ones.

Detections are sorted by descending score. Spec:
``fake[:SEED][,count=N][,delay=SECONDS][,fail=MESSAGE][,name=NAME]``;
``delay`` sleeps in "inference" (to interrupt a run midway in tests), ``fail``
makes ``load`` raise a UserError (to test that a failing adapter does not stop
the run).
"""
import time
import zlib

import numpy as np

from compare.adapters.protocol import StageTimer
from compare.detections import Detections, DetectorInfo, Prediction
from compare.errors import UserError

NAMES = ('cat', 'dog', 'person')
#: Most synthetic detections per image.
MAX_COUNT = 10000


class FakeAdapter:
    """Seeded synthetic detector (see module doc)."""
    order = 'score'

    def __init__(self, name='fake', seed=0, count=3, delay=0.0, fail=None):
        self.name, self.seed, self.count, self.delay, self.fail = name, seed, count, delay, fail

    def load(self):
        if self.fail:
            raise UserError('fake detector asked to fail: {}'.format(self.fail))

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 -> :class:`Prediction`."""
        timer = StageTimer()
        with timer('preprocess'):
            keys = [zlib.crc32(np.ascontiguousarray(image).tobytes()) for image in images]
        with timer('inference'):
            time.sleep(self.delay * len(images))
            detections = [self._detect(key, image.shape[:2])
                          for key, image in zip(keys, images, strict=True)]
        return Prediction(detections, timer.times)

    def _detect(self, key, size):
        """``count`` boxes inside ``size`` = (H, W), yxyx pixels, by descending score."""
        rng = np.random.RandomState((self.seed * 7919 + key) % (2 ** 32))
        height, width = size
        # two sorted corners per box: (count, 2) -> y_min < y_max, x_min < x_max
        ys = np.sort(rng.uniform(0, height, (self.count, 2)), axis=1)
        xs = np.sort(rng.uniform(0, width, (self.count, 2)), axis=1)
        boxes = np.stack([ys[:, 0], xs[:, 0], ys[:, 1], xs[:, 1]], axis=1)
        labels = rng.randint(0, len(NAMES), self.count)
        scores = rng.uniform(0.05, 1.0, self.count)
        order = np.argsort(-scores, kind='stable')
        return Detections(boxes[order], labels[order], [NAMES[i] for i in labels[order]],
                          scores[order])

    def info(self):
        return DetectorInfo(self.name, 'none (synthetic, seed {})'.format(self.seed), None, True,
                            'CPU', '1', NAMES,
                            {'count': self.count, 'delay': self.delay, 'seed': self.seed})


def build_fake(arg, options, settings):
    """``fake[:SEED][,count=N][,delay=S][,fail=MSG][,name=NAME]``."""
    try:
        adapter = FakeAdapter(name=options.pop('name', 'fake'), seed=int(arg or 0),
                              count=int(options.pop('count', 3)),
                              delay=float(options.pop('delay', 0)),
                              fail=options.pop('fail', None))
    except ValueError as exc:
        raise UserError('fake detector options: {}'.format(exc)) from None
    if not (0 <= adapter.count <= MAX_COUNT and 0 <= adapter.delay <= 60 and adapter.seed >= 0):
        raise UserError('fake detector: seed >= 0, count 0..{} and delay 0..60 seconds, got '
                        '{}, {} and {}'.format(MAX_COUNT, adapter.seed, adapter.count,
                                               adapter.delay))
    return adapter
