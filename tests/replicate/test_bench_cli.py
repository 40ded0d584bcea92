"""``python -m replicate.bench`` on tiny runs: the files, the rows, the
errors, and that it runs where ChainerCV cannot be imported."""
import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest

from replicate.bench import cli, stages
from replicate.bench.clock import StageClock, summarize


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


@pytest.mark.slow  # full-size SSD300 timings; tox -e bench writes the report
def test_against_chainercv_writes_three_files(tmp_path):
    code = cli.main(['--batch-sizes', '1', '--repeats', '1', '--warmup', '0',
                     '--preset', 'visualize', '--image-size', '90x120', '--out', str(tmp_path),
                     '--against', 'chainercv', '--malloc', 'default'])
    assert code == 0
    stem = tmp_path / 'cpu_random_visualize'
    rows = read_csv(str(stem) + '.csv')
    assert [(r['pipeline'], r['stage']) for r in rows] == [
        (p, s) for p in ('ours-chainer', 'chainercv') for s in stages.STAGES]
    for row in rows:
        assert row['repeats'] == '1' and float(row['median_s']) > 0
        assert float(row['cpu_per_image_s']) > 0
        assert float(row['p90_s']) >= float(row['median_s'])
        # same weights, same images: bit-identical detections, and some
        assert row['same_as_chainercv'] == 'yes' and int(row['detections']) > 0
    total = {r['pipeline']: float(r['median_s']) for r in rows if r['stage'] == 'total'}
    forward = {r['pipeline']: float(r['median_s']) for r in rows if r['stage'] == 'forward'}
    assert all(forward[p] < total[p] for p in total)
    meta = json.loads((tmp_path / 'cpu_random_visualize.meta.json').read_text())
    assert meta['settings']['batch_sizes'] == '1' and meta['settings']['preset'] == 'visualize'
    assert 'start.load_average_1_5_15' in meta['machine']
    assert meta['machine']['malloc'] == 'default'
    assert meta['provenance']['device'].startswith('CPU')
    markdown = (tmp_path / 'cpu_random_visualize.md').read_text()
    assert 'Per image (medians)' in markdown and 'end.load_average_1_5_15' in markdown


@pytest.mark.slow  # full-size SSD300 timings; tox -e bench writes the report
def test_without_chainercv(tmp_path):
    """ChainerCV made unimportable: the plain run works and never loads it;
    --against chainercv is a one-line error."""
    script = textwrap.dedent('''
        import sys
        sys.modules['chainercv'] = None  # any import of it now raises ImportError
        from replicate.bench import cli
        args = ['--batch-sizes', '1', '--repeats', '1', '--warmup', '0', '--image-size',
                '60x80', '--out', sys.argv[1], '--stem', 'x']
        assert cli.main(args) == 0
        assert not [m for m in sys.modules if m.startswith('chainercv.')]
        assert 'mallopt' in open(sys.argv[1] + '/x.meta.json').read()  # --malloc keep
        sys.exit(cli.main(args + ['--against', 'chainercv']))
    ''')
    done = subprocess.run([sys.executable, '-c', script, str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert 'error: --against chainercv: ChainerCV is not importable' in done.stderr
    assert 'Traceback' not in done.stderr
    rows = read_csv(os.path.join(str(tmp_path), 'x.csv'))
    assert {r['pipeline'] for r in rows} == {'ours-chainer'}
    assert {r['same_as_chainercv'] for r in rows} == {'-'}


@pytest.mark.parametrize('argv, message', [
    (['--repeats', '0'], 'need repeats >= 1'),
    (['--device', '@cupy:0'], 'no usable CUDA GPU here (CuPy is not importable)'),
    (['--weights', 'no/such.npz'], 'no/such.npz not found'),
    (['--budget-s', '0'], 'positive number of seconds'),
])
def test_user_errors_are_one_line(argv, message, capsys, tmp_path):
    assert cli.main(argv + ['--out', str(tmp_path), '--malloc', 'default']) == 2
    err = capsys.readouterr().err
    assert message in err and err.count('\n') == 1


def test_bad_batch_sizes_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        cli.parser().parse_args(['--batch-sizes', '1,0'])
    assert 'positive integers' in capsys.readouterr().err


def test_stage_clock_and_summary():
    calls = []
    clock = StageClock(lambda: calls.append('sync'))
    assert clock.stage('a', lambda v: v + 1, 1) == 2
    clock.stage('b', lambda: None)
    assert calls == ['sync'] * 4
    assert clock.seconds['total'] >= clock.seconds['a'] + clock.seconds['b']
    assert summarize([1.0, 2.0, 3.0, 4.0, 10.0]) == (3.0, pytest.approx(7.6))
