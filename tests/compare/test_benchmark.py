"""compare.runner.benchmark: timed calls; raw/timings.csv; the speed table's percentiles."""
import numpy as np

from compare import rundir
from compare.adapters import build
from compare.runner import benchmark
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
    p50, p90, per_image = row.total_p50_ms, row.total_p90_ms, row.total_p50_ms_per_image
    assert p50 == 3000.0 and abs(p90 - 4600) < 1e-9 and per_image == 1500
    assert row.images_per_s == 2 / 3.0 and np.isnan(row.inference_p50_ms)  # never invented
    assert row.p90_over_p50 == p90 / p50 and row.noisy == 'p90/p50 1.53 > 1.25'
    assert benchmark.format_summary(table).splitlines() == [
        'detector                         batch     p50 ms     p90 ms   p50 ms/image peak MiB  '
        'noisy',
        'a                                    2     3000.0     4600.0         1500.0      nan  '
        'p90/p50 1.53 > 1.25']


def test_noisy_by_load_and_the_benchmark_conditions(tmp_path):
    rows = [rundir.Timing('a', 1, i, 'total', 1.0 + i / 100) for i in range(5)]
    bench = [rundir.Benchmark('a', 1, '["w", "p"]', 5, 1, 3.5, 2, 100.0, 250.5)]
    (tmp_path / 'raw').mkdir()
    rundir.write_benchmarks(str(tmp_path), bench)
    assert rundir.read_benchmarks(str(tmp_path)) == bench
    (row,) = speed_table(rows, {}, bench).itertuples(index=False)
    assert row.noisy == 'load average 3.50 > 2 cores'
    assert (row.load_avg_max, row.cpu_count, row.peak_rss_mib) == (3.5, 2, 250.5)
    quiet = [rundir.Benchmark('a', 1, '', 5, 1, 1.5, 2, 100.0, 250.5)]
    assert speed_table(rows, {}, quiet)['noisy'].tolist() == ['']


def test_one_benchmark_records_load_and_memory():
    adapter = build('fake:0')
    rows, bench = benchmark.benchmark_one(adapter, [np.zeros((300, 300, 3), np.uint8)], 2, 1,
                                          2, 'ID')
    assert len(rows) == 2 * 4 and (bench.detector, bench.batch_size, bench.identity) == (
        'fake', 2, 'ID')
    assert bench.cpu_count >= 1 and bench.load_avg_max >= 0 and bench.rss_before_mib > 10
    assert np.isnan(bench.peak_rss_mib) or bench.peak_rss_mib >= bench.rss_before_mib * 0.5
    assert benchmark.cached([bench], rows, 'fake', 2, 'ID', 1, 2) == (rows, bench)
    assert benchmark.cached([bench], rows, 'fake', 2, 'OTHER', 1, 2) is None
    assert benchmark.cached([bench], rows, 'fake', 2, 'ID', 1, 3) is None


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
