"""A detector with no model: deterministic synthetic detections.

Used to test the harness (runner, resume, speed, CLI) without any framework.
Detections depend only on the seed and the image's pixels (a crc32 of them),
so two runs give identical rows and two images give different ones.

Spec: ``fake[:SEED][,count=N][,delay=SECONDS][,fail=MESSAGE][,name=NAME]``;
``delay`` sleeps in "inference" (to interrupt a run midway in tests), ``fail``
makes ``load`` raise a UserError (to test that a failing adapter does not stop
the run).
"""
import time
import zlib

import numpy as np

from compare.adapters.base import Prediction, StageTimer
from compare.detections import Detections
from compare.errors import UserError

NAMES = ('cat', 'dog', 'person')


class FakeAdapter:
    """Seeded synthetic detector (see module doc)."""

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
        """``count`` boxes inside ``size`` = (H, W), yxyx pixels."""
        rng = np.random.RandomState((self.seed * 7919 + key) % (2 ** 32))
        height, width = size
        # two sorted corners per box: (count, 2) -> y_min < y_max, x_min < x_max
        ys = np.sort(rng.uniform(0, height, (self.count, 2)), axis=1)
        xs = np.sort(rng.uniform(0, width, (self.count, 2)), axis=1)
        boxes = np.stack([ys[:, 0], xs[:, 0], ys[:, 1], xs[:, 1]], axis=1)
        labels = rng.randint(0, len(NAMES), self.count)
        scores = rng.uniform(0.05, 1.0, self.count)
        return Detections(boxes, labels, [NAMES[i] for i in labels], scores)

    def info(self):
        return {'name': self.name, 'weights': 'none (synthetic, seed {})'.format(self.seed),
                'weights_sha256': None, 'random_weights': True, 'device': 'CPU', 'threads': '1',
                'label_names': list(NAMES),
                'info': {'count': self.count, 'delay': self.delay, 'seed': self.seed}}


def build_fake(arg, options, settings=None):
    """``fake[:SEED][,count=N][,delay=S][,fail=MSG][,name=NAME]``."""
    try:
        return FakeAdapter(name=options.pop('name', 'fake'), seed=int(arg or 0),
                           count=int(options.pop('count', 3)),
                           delay=float(options.pop('delay', 0)), fail=options.pop('fail', None))
    except ValueError as exc:
        raise UserError('fake detector options: {}'.format(exc)) from None
