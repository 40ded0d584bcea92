"""What every detector adapter provides (MLCommons-style, no base class).

An adapter is any object with::

    name: str                       # used for raw/<name>.jsonl, filename-safe
    load() -> None                  # heavy work: imports, weights; may raise
    predict(images) -> Prediction   # images: list of (H, W, 3) uint8 RGB
    info() -> dict                  # the meta.json entry (see compare_contract)

``load`` raises :class:`compare.errors.UserError` (one line) for anything the
user can fix; the runner records it as ``status: "failed: <message>"`` and
continues with the other detectors.

``predict`` returns one :class:`~compare.detections.Detections` per image, in
the common format (boxes ``(y_min, x_min, y_max, x_max)`` in pixels of the
image given), plus the wall-clock seconds of each stage for the whole call.
"""
import dataclasses
import os
import time

#: The stages every adapter times (their sum is the ``total`` in timings.csv).
STAGES = ('preprocess', 'inference', 'postprocess')


@dataclasses.dataclass
class Prediction:
    """Result of one ``predict`` call.

    Attributes:
        detections: list of :class:`~compare.detections.Detections`, one per image.
        times: ``{stage: seconds}`` for the whole call, stages in :data:`STAGES`.
    """
    detections: list
    times: dict


class StageTimer:
    """Accumulates wall-clock seconds per stage: ``with timer('inference'): ...``."""

    def __init__(self):
        self.times = {stage: 0.0 for stage in STAGES}

    def __call__(self, stage):
        return _Span(self.times, stage)


class _Span:
    def __init__(self, times, stage):
        self.times, self.stage = times, stage

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        self.times[self.stage] += time.perf_counter() - self.start
        return False


def numpy_threads():
    """How many threads numpy's BLAS may use, and how that was found."""
    try:
        from threadpoolctl import threadpool_info
        counts = [pool['num_threads'] for pool in threadpool_info()
                  if pool.get('user_api') == 'blas']
        if counts:
            return '{} (threadpoolctl, BLAS)'.format(max(counts))
    except ImportError:
        pass
    env = {k: os.environ[k] for k in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')
           if k in os.environ}
    return '{} (os.cpu_count(); threadpoolctl not installed; env {})'.format(
        os.cpu_count(), env or 'unset')
