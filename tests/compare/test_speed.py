"""compare.speed: benchmark rows, percentiles, timings.csv."""
import csv

import numpy as np
import pandas as pd

from compare import speed
from compare.adapters import build
from compare.score_speed import speed_table


class Counting:
    """Wraps an adapter and records the batch sizes it was called with."""

    def __init__(self, adapter):
        self.adapter, self.name, self.sizes = adapter, adapter.name, []

    def predict(self, images):
        self.sizes.append(len(images))
        return self.adapter.predict(images)


def test_benchmark_rows_warmup_and_batches():
    adapter = Counting(build('fake:0,delay=0.01'))
    images = [np.zeros((8, 8, 3), np.uint8), np.ones((8, 8, 3), np.uint8)]
    rows = speed.benchmark(adapter, images, batch_sizes=(1, 3), warmup=2, repeats=3)
    assert adapter.sizes == [1] * 5 + [3] * 5  # warm-up calls are made but not recorded
    assert len(rows) == 2 * 3 * 4
    assert {r['stage'] for r in rows} == {'preprocess', 'inference', 'postprocess', 'total'}
    for batch_size in (1, 3):
        for repeat in range(3):
            by_stage = {r['stage']: r['seconds'] for r in rows
                        if r['batch_size'] == batch_size and r['repeat'] == repeat}
            assert by_stage['inference'] >= 0.01 * batch_size  # the fake sleeps per image
            parts = by_stage['preprocess'] + by_stage['inference'] + by_stage['postprocess']
            assert by_stage['total'] >= parts


def test_summary_percentiles_by_hand():
    rows = [{'detector': 'a', 'batch_size': 2, 'repeat': i, 'stage': 'total', 'seconds': s}
            for i, s in enumerate([5.0, 1.0, 4.0, 2.0, 3.0])]
    table = speed_table(pd.DataFrame(rows), {})
    (row,) = table.itertuples(index=False)
    assert (row.detector, row.batch_size) == ('a', 2)
    p50, p90, per_image = row.total_p50_s, row.total_p90_s, row.total_p50_per_image_s
    assert p50 == 3.0 and abs(p90 - 4.6) < 1e-12 and per_image == 1.5
    assert 'a' in speed.format_summary(table)


def test_write_timings_csv(tmp_path):
    rows = speed.benchmark(build('fake:0'), [np.zeros((4, 4, 3), np.uint8)], (1,), 0, 2)
    path = tmp_path / 'timings.csv'
    speed.write_timings(rows, str(path))
    with open(path) as f:
        read = list(csv.DictReader(f))
    assert list(read[0]) == ['detector', 'batch_size', 'repeat', 'stage', 'seconds']
    assert len(read) == 8 and all(float(r['seconds']) >= 0 for r in read)
