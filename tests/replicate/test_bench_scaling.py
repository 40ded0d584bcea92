"""replicate.bench.scaling on stand-in pipelines: the rows it times and how
"batch 8 costs no more per image than batch 1" is judged."""
import time

import numpy as np

from replicate.bench import scaling


class _Sleeper:
    """A pipeline whose forward sleeps ``per_call + per_image * batch`` seconds."""

    def __init__(self, name, per_call, per_image):
        self.name, self.per_call, self.per_image = name, per_call, per_image
        self.calls = []

    def prepare(self, images):
        return (np.stack(images),)

    def forward(self, x):
        self.calls.append(len(x))
        time.sleep(self.per_call + self.per_image * len(x))


def test_rows_time_every_pipeline_round_and_batch():
    images = [np.zeros((4, 5, 3), np.uint8)] * 3
    cheap_batch = _Sleeper('batch-pays', 0.02, 0.001)
    flat = _Sleeper('no-gain', 0.0, 0.004)
    rows = scaling.run([cheap_batch, flat], images, (1, 4), rounds=2, repeats=3,
                       progress=lambda _: None)
    assert [tuple(r[k] for k in ('round', 'pipeline', 'batch_size')) for r in rows] == [
        (n, p, b) for n in (1, 2) for p in ('batch-pays', 'no-gain') for b in (1, 4)]
    assert all(set(r) == set(scaling.COLUMNS) for r in rows)
    assert cheap_batch.calls == [1] * 4 + [4] * 4 + [1] * 4 + [4] * 4  # one untimed, 3 timed
    for row in rows:
        assert 0 <= row['sys_per_image_s'] <= row['cpu_per_image_s'] + 0.01
        assert row['repeats'] == 3
    by_key = {(r['round'], r['pipeline'], r['batch_size']): r['median_per_image_s'] for r in rows}
    assert by_key[1, 'batch-pays', 1] > 0.02 > by_key[1, 'batch-pays', 4]  # 21 ms vs 6 ms
    assert scaling.held(rows, 'batch-pays') == (True, [
        (by_key[n, 'batch-pays', 4], by_key[n, 'batch-pays', 1]) for n in (1, 2)])


def test_held_needs_every_round():
    rows = [dict(round=n, pipeline='p', batch_size=b, median_per_image_s=v)
            for n, b, v in ((1, 1, 1.0), (1, 8, 0.9), (2, 1, 1.0), (2, 8, 1.1))]
    assert scaling.held(rows, 'p') == (False, [(0.9, 1.0), (1.1, 1.0)])
