"""What every detector adapter provides (MLCommons-style: a protocol, no base class).

An adapter is any object of the shape :class:`Detector`. ``load`` raises
:class:`compare.errors.UserError` (one line) for anything the user can fix;
the runner records it as ``status: "failed: <message>"`` and goes on with the
other detectors. ``predict`` converts its system's output to the common
format of :mod:`compare.detections` and times each stage with
:class:`StageTimer`. ``info`` returns a :class:`compare.detections.DetectorInfo`,
which the run folder records in ``meta.json`` (:mod:`compare.rundir`).

An adapter may also set ``reads_files = True``: it is then given
:class:`compare.images.LoadedImage` arrays, which keep the image file's bytes
(for TF detectors that let TensorFlow decode the file); every other adapter
gets plain arrays (:func:`inputs_for`). An adapter that sets
``reads_names = True`` gets :class:`NamedImage` arrays, whose ``name`` is the
image's path in the images folder (the ``file`` kind looks its detections up
by it); one that sets ``timed = False`` is not benchmarked (its "inference"
is a look-up: :func:`is_timed`).
"""
import os
import time
import typing

import numpy as np

from compare.detections import STAGES

#: Values of :attr:`Detector.order`.
ORDERS = {
    'score': 'descending score over the whole image',
    'class_then_score': 'ascending label, descending score within a label',
}


class Detector(typing.Protocol):
    """The adapter interface.

    Attributes:
        name: the detector's name in the run: file-name safe, it names
            ``raw/<name>.jsonl``.
        order: how ``predict`` orders one image's detections, a key of
            :data:`ORDERS`.
    """
    name: str
    order: str

    def load(self) -> None:
        """Heavy work (framework imports, weights); may raise UserError."""

    def predict(self, images: list):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`compare.detections.Prediction`
        (one result per image, boxes in that image's pixels)."""

    def info(self):
        """What the detector is (:class:`compare.detections.DetectorInfo`), for
        meta.json; valid before and after ``load``."""


def reads_files(adapter):
    """Whether ``adapter`` asks for :class:`compare.images.LoadedImage` arrays."""
    return bool(getattr(adapter, 'reads_files', False))


class NamedImage(np.ndarray):
    """An ``(H, W, 3)`` uint8 image that knows its ``name``: the posix path
    relative to the images folder (None where unknown)."""
    name = None


def reads_names(adapter):
    """Whether ``adapter`` asks for :class:`NamedImage` arrays."""
    return bool(getattr(adapter, 'reads_names', False))


def is_timed(adapter):
    """Whether the speed benchmark times ``adapter`` (not a ``timed = False`` one)."""
    return bool(getattr(adapter, 'timed', True))


def inputs_for(adapter, images, names=None):
    """``images`` (LoadedImage or plain arrays) as ``adapter`` takes them;
    ``names``: their paths in the images folder, for adapters that read them."""
    images = list(images) if reads_files(adapter) else [np.asarray(image) for image in images]
    if not reads_names(adapter):
        return images
    named = []
    for image, name in zip(images, names or [None] * len(images), strict=True):
        view = np.asarray(image).view(NamedImage)
        view.name = name
        named.append(view)
    return named


class StageTimer:
    """Accumulates wall-clock seconds per stage: ``with timer('inference'): ...``.

    ``times`` starts at 0.0 for every stage of :data:`compare.detections.STAGES`.
    """

    def __init__(self):
        self.times = {stage: 0.0 for stage in STAGES}

    def __call__(self, stage):
        return _Span(self.times, stage)


class _Span:
    def __init__(self, times, stage):
        if stage not in times:
            raise KeyError('unknown stage {!r}; stages: {}'.format(stage, ', '.join(times)))
        self.times, self.stage = times, stage

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        self.times[self.stage] += time.perf_counter() - self.start
        return False


def numpy_threads():
    """How many threads numpy's BLAS uses (threadpoolctl), and the environment
    variables that limit it."""
    from threadpoolctl import threadpool_info
    counts = [pool['num_threads'] for pool in threadpool_info() if pool.get('user_api') == 'blas']
    env = {k: os.environ[k] for k in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')
           if k in os.environ}
    return '{} (BLAS, threadpoolctl; env {})'.format(max(counts) if counts else 'unknown',
                                                    env or 'unset')


def check_finite(xp, *arrays):
    """Raise :class:`compare.errors.UserError` if a network output holds NaN or
    Inf: NMS drops NaN scores, zero detections that would look like a result."""
    from compare.errors import UserError
    if not all(bool(xp.isfinite(a).all()) for a in arrays):
        raise UserError('the network output NaN or Inf (its weights or the input are broken)')
