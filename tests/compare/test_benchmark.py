"""compare.benchmark: timed calls; raw/timings.csv; the speed table's percentiles."""
import numpy as np

from compare import benchmark, rundir
from compare.adapters import build
from compare.score.speed import speed_table


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
    rows = benchmark.benchmark(adapter, images, batch_sizes=(1, 3), warmup=2, repeats=3)
    assert adapter.sizes == [1] * 5 + [3] * 5  # warm-up calls are made but not recorded
    assert [(r.batch_size, r.repeat, r.stage) for r in rows] == [
        (b, k, s) for b in (1, 3) for k in range(3)
        for s in ('preprocess', 'inference', 'postprocess', 'total')]
    for batch_size in (1, 3):
        for repeat in range(3):
            by_stage = {r.stage: r.seconds for r in rows
                        if r.batch_size == batch_size and r.repeat == repeat}
            assert by_stage['inference'] >= 0.01 * batch_size  # the fake sleeps per image
            parts = by_stage['preprocess'] + by_stage['inference'] + by_stage['postprocess']
            assert by_stage['total'] >= parts


def test_summary_percentiles_by_hand():
    rows = [rundir.Timing('a', 2, i, 'total', s) for i, s in enumerate([5.0, 1.0, 4.0, 2.0, 3.0])]
    table = speed_table(rows, {})
    (row,) = table.itertuples(index=False)
    assert (row.detector, row.batch_size, row.repeats) == ('a', 2, 5)
    p50, p90, per_image = row.total_p50_s, row.total_p90_s, row.total_p50_per_image_s
    assert p50 == 3.0 and abs(p90 - 4.6) < 1e-12 and per_image == 1.5
    assert row.images_per_s == 2 / 3.0 and np.isnan(row.inference_p50_s)  # never invented
    assert benchmark.format_summary(table).splitlines() == [
        'detector                         batch      p50 s      p90 s  p50 s/image',
        'a                                    2     3.0000     4.6000       1.5000']


def test_timings_csv_round_trip(tmp_path):
    rows = benchmark.benchmark(build('fake:0,delay=0.001'), [np.zeros((4, 4, 3), np.uint8)],
                               (1,), 0, 2)
    (tmp_path / 'raw').mkdir()
    rundir.write_timings(str(tmp_path), rows)
    lines = (tmp_path / 'raw' / 'timings.csv').read_text().splitlines()
    assert lines[0] == 'detector,batch_size,repeat,stage,seconds' and len(lines) == 9
    assert lines[2] == 'fake,1,0,inference,{:.6g}'.format(rows[1].seconds)
    back = rundir.read_timings(str(tmp_path))
    assert [(r.detector, r.batch_size, r.repeat, r.stage) for r in back] == [
        (r.detector, r.batch_size, r.repeat, r.stage) for r in rows]
    np.testing.assert_allclose([r.seconds for r in back], [r.seconds for r in rows], rtol=1e-5)
