"""The GPU check's CPU-only parts: the one-line stop without a GPU, the pack
(manifest, checks, wheel unpacking), the phases' plumbing in a CPU dry run
and the summary page. What needs CuPy and a GPU runs on a GPU machine only
(``python3 tools/gpu_check.py --out DIR``)."""
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import pytest

TOOLS = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, 'tools')
FIXTURE = os.path.join(os.path.dirname(__file__), os.pardir, 'fixtures',
                       'parity_chainercv_random_b2.npz')


def _tool(name):
    sys.path.insert(0, os.path.abspath(TOOLS))
    spec = importlib.util.spec_from_file_location(name, os.path.join(TOOLS, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu_pack = _tool('gpu_pack')
gpu_report = _tool('gpu_report')


def _check(*args):
    return subprocess.run([sys.executable, os.path.join(TOOLS, 'gpu_check.py')] + list(args),
                          capture_output=True, text=True, timeout=300)


def _wheel(path, files, tag='py3-none-any', purelib='true'):
    """A minimal wheel holding ``files`` ({name: text})."""
    dist = os.path.basename(path).split('-')[0] + '-0.dist-info/'
    with zipfile.ZipFile(path, 'w') as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr(dist + 'WHEEL', 'Wheel-Version: 1.0\nRoot-Is-Purelib: {}\nTag: {}\n'
                   .format(purelib, tag))
    return path


@pytest.fixture
def pack(tmp_path):
    """A pack made by tools/gpu_pack.py from the committed reference and two
    stand-in wheels (the real Chainer wheel needs the package index)."""
    wheels = tmp_path / 'wheels_in'
    wheels.mkdir()
    _wheel(str(wheels / 'chainer-0-py3-none-any.whl'), {'ssd_pack_probe/__init__.py': 'X = 1\n'})
    _wheel(str(wheels / 'six-0-py3-none-any.whl'), {'six.py': ''})
    out = tmp_path / 'pack'
    assert gpu_pack.main(['--pack', str(out), '--reference-from', FIXTURE,
                          '--wheels-from', str(wheels)]) == 0
    return out


def test_without_a_gpu_it_stops_in_one_line(tmp_path):
    if importlib.util.find_spec('cupy') is not None:
        pytest.skip('CuPy is installed here: the one-line stop is for machines without it')
    done = _check('--out', str(tmp_path / 'out'))
    assert done.returncode == 2 and done.stdout == ''
    assert done.stderr.count('\n') == 1
    assert done.stderr.startswith('gpu_check: stopped: CuPy is not importable')
    assert '--device @numpy' in done.stderr
    assert not (tmp_path / 'out').exists()


def test_missing_pack_is_one_line(tmp_path):
    done = _check('--out', str(tmp_path), '--device', '@numpy', '--pack', str(tmp_path / 'no'))
    assert done.returncode == 2 and done.stderr.count('\n') == 1
    assert 'MANIFEST.json not found' in done.stderr and 'tools/gpu_pack.py' in done.stderr


def test_pack_manifest_describes_and_guards_every_file(pack):
    manifest = gpu_pack.read_manifest(str(pack))
    roles = {e['file']: e['role'] for e in manifest['files']}
    assert roles == {'reference_random_b2.npz': 'reference',
                     'wheels/chainer-0-py3-none-any.whl': 'always',
                     'wheels/six-0-py3-none-any.whl': 'if-missing'}
    assert manifest['total_bytes'] == sum(e['bytes'] for e in manifest['files'])
    assert 'python -m replicate.parity --save-reference .gpu_pack/' in \
        manifest['commands']['reference']
    with open(pack / 'wheels' / 'six-0-py3-none-any.whl', 'ab') as f:
        f.write(b'x')  # altered after packing
    with pytest.raises(gpu_pack.PackError, match='six-0-py3-none-any.whl is missing or differs'):
        gpu_pack.read_manifest(str(pack))


def test_tree_check_names_the_commit_only_for_an_unchanged_copy(pack, tmp_path):
    manifest = gpu_pack.read_manifest(str(pack))
    assert 'replicate/ssd/ssd.py' in manifest['tree'] and 'tools/gpu_check.py' in manifest['tree']
    assert not any(path.startswith('reports/') for path in manifest['tree'])
    # git's own id of a tracked file equals ours (what the copy is checked with)
    blob = subprocess.run(['git', 'hash-object', 'replicate/ssd/ssd.py'], cwd=gpu_pack.ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()
    assert gpu_pack.git_blob_sha1(os.path.join(gpu_pack.ROOT, 'replicate/ssd/ssd.py')) == blob
    copy = tmp_path / 'copy'
    for path in manifest['tree']:
        (copy / path).parent.mkdir(parents=True, exist_ok=True)
        with open(os.path.join(gpu_pack.ROOT, path), 'rb') as f:
            (copy / path).write_bytes(f.read())
    clean = dict(manifest, commit='abc', tree={p: b for p, b in manifest['tree'].items()
                                               if os.path.isfile(os.path.join(gpu_pack.ROOT, p))
                                               and gpu_pack.git_blob_sha1(
                                                   os.path.join(gpu_pack.ROOT, p)) == b})
    assert gpu_pack.tree_commit(clean, str(copy)) == ('abc', [])
    with open(copy / 'replicate' / 'ssd' / 'ssd.py', 'a') as f:
        f.write('# edited\n')
    assert gpu_pack.tree_commit(clean, str(copy)) == ('abc+dirty', ['replicate/ssd/ssd.py'])
    assert gpu_pack.tree_commit(dict(clean, tree={}), str(copy))[0] == 'abc+dirty'


def test_pack_refuses_over_budget_and_binary_wheels(pack, monkeypatch):
    monkeypatch.setattr(gpu_pack, 'BUDGET_BYTES', 1000)
    with pytest.raises(gpu_pack.PackError, match='over the 0 MB budget'):
        gpu_pack.write_manifest(str(pack), 'c', {})
    monkeypatch.undo()
    _wheel(str(pack / 'wheels' / 'fast-0-cp312-cp312-linux_x86_64.whl'), {'fast.so': ''},
           tag='cp312-cp312-linux_x86_64', purelib='false')
    with pytest.raises(gpu_pack.PackError, match='not a pure-Python wheel'):
        gpu_pack.write_manifest(str(pack), 'c', {})


def test_unpacked_wheel_imports_and_cannot_escape(tmp_path):
    site = tmp_path / 'site'
    site.mkdir()
    gpu_pack.unpack_wheel(_wheel(str(tmp_path / 'ok-0-py3-none-any.whl'),
                                 {'okmod/__init__.py': 'VALUE = 7\n'}), str(site))
    done = subprocess.run([sys.executable, '-c', 'import okmod; print(okmod.VALUE)'],
                          env=dict(os.environ, PYTHONPATH=str(site)), capture_output=True,
                          text=True)
    assert done.stdout.strip() == '7'
    evil = _wheel(str(tmp_path / 'evil-0-py3-none-any.whl'), {'../outside.py': ''})
    with pytest.raises(gpu_pack.PackError, match='outside the install folder'):
        gpu_pack.unpack_wheel(evil, str(site))
    assert not (tmp_path / 'outside.py').exists()


@pytest.mark.slow  # the whole GPU check on the CPU, 15 s
def test_dry_run_phases_reports_and_tarball(pack, tmp_path):
    out, reports = tmp_path / 'out', tmp_path / 'reports'
    done = _check('--out', str(out), '--device', '@numpy', '--pack', str(pack),
                  '--reports', str(reports), '--skip', 'parity,bench')
    assert done.returncode == 0, done.stdout + done.stderr
    for phase in ('setup: ok', 'env: ok', 'parity: skipped: --skip', 'detections: ok',
                  'report: ok'):
        assert phase in done.stdout
    assert 'unpacked wheels/chainer-0-py3-none-any.whl (always)' in done.stdout
    assert 'six-0' not in done.stdout  # six is importable here: its fallback stays packed
    assert sorted(os.listdir(out)) == ['gpu_check.log', 'gpu_check.tar.gz', 'parity_gpu.md']
    with tarfile.open(out / 'gpu_check.tar.gz') as tar:
        names = tar.getnames()
    assert 'reports/parity/cpu_dryrun.md' in names and 'logs/environment.json' in names
    summary = (reports / 'parity' / 'cpu_dryrun.md').read_text()
    assert '**The main parity run did not complete**' in summary
    # ours on this CPU against the saved ChainerCV detections: all matched
    assert '| 0 | 1609 | 1609 | 1609 | 0 | 0 |' in summary
    assert '| 1 | 322 | 322 | 322 | 0 | 0 |' in summary
    assert '| parity | skipped: --skip | 0.0 |' in summary
    assert str(tmp_path) not in summary and str(pack) not in summary  # no outside paths


def test_deadline_keeps_the_report_and_tarball(pack, tmp_path):
    out = tmp_path / 'out'
    done = _check('--out', str(out), '--device', '@numpy', '--pack', str(pack),
                  '--reports', str(tmp_path / 'reports'), '--deadline-s', '16')
    assert done.returncode == 1  # nothing essential ran
    assert 'setup: skipped: --deadline-s 16 near' in done.stdout
    assert 'report: ok' in done.stdout and 'package: ok' in done.stdout
    assert (out / 'gpu_check.tar.gz').is_file()


def test_detection_matching_counts_pairs_by_label_and_iou():
    gpu_env = _tool('gpu_env')
    ref = (np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32),
           np.array([1, 2, 1]), np.array([0.9, 0.8, 0.7], np.float32))
    ours = (np.array([[0, 0, 10, 10.1], [50, 50, 60, 60], [0, 0, 10, 10]], np.float32),
            np.array([1, 1, 3]), np.array([0.9, 0.69, 0.5], np.float32))
    row = gpu_env.match(ref, ours)
    assert (row['matched'], row['only_reference'], row['only_ours']) == (2, 1, 1)
    assert row['min_iou'] == pytest.approx(100 / 101)
    assert row['max_abs_score_diff'] == pytest.approx(0.01, abs=1e-6)


def _parity_files(parity_dir, stem, rows, verdict):
    parity_dir.mkdir(parents=True, exist_ok=True)
    header = 'name,shape,dtype,max_abs_err,max_rel_err,mean_abs_err,scaled_err,cosine,' \
             'verdict,note\n'
    (parity_dir / (stem + '.csv')).write_text(header + ''.join(
        '{},{},float32,{},0,0,{},1,{},{}\n'.format(*r) for r in rows))
    counts = {'exact': 0, 'within tolerance': 0, 'DIVERGES': 0}
    for r in rows:
        counts[r[4]] += 1
    (parity_dir / (stem + '.meta.json')).write_text(json.dumps({
        'summary': {'verdict': verdict, 'rows': len(rows), 'counts': counts,
                    'first_diverging': next((r[0] for r in rows if r[4] == 'DIVERGES'), None)},
        'settings': {'rtol': 1e-4}}))


def test_summary_page_from_parity_results(tmp_path):
    reports, logs = tmp_path / 'reports', tmp_path / 'logs'
    logs.mkdir()
    rows = [('input', '2x3x300x300', 0, 0, 'exact', 'sha256 equal'),
            ('extractor/conv1_1', '2x64x300x300', 3e-6, 2e-7, 'within tolerance',
             'sampled 32760 of 11520000 elements'),
            ('decode[0]/score', '174640', 4e-6, 4e-6, 'within tolerance', ''),
            ('predict[0]/bbox', '1609x4', 7e-5, 1e-7, 'within tolerance', '')]
    _parity_files(reports / 'parity', 'gpu_random', rows, 'PASS')
    tf32 = [r[:2] + (1e-2, 2e-3, 'DIVERGES', r[5]) for r in rows]
    _parity_files(reports / 'parity', 'gpu_random_tf32', tf32, 'DIVERGES')
    (logs / 'environment.json').write_text(json.dumps({
        'device': 'GPU 0: NVIDIA H100 80GB HBM3 (compute capability 9.0; CUDA driver 13.0, '
                  'runtime 13.0)', 'cupy': '14.2.0',
        'cudnn': 'not used: this CuPy has no cuDNN module (Chainer: im2col + cuBLAS GEMM)'}))
    (logs / 'detections.json').write_text(json.dumps({
        'iou': 0.5, 'columns': ['image', 'reference', 'ours', 'matched', 'min_iou'],
        'rows': [[0, 1609, 1609, 1609, 0.99999812345]]}))
    phases = [{'phase': 'parity', 'status': 'PASS', 'seconds': 12.34}]
    path = gpu_report.write_summary(str(reports), 'gpu', str(logs), phases,
                                    {'commit': 'abc', 'files': [], 'total_bytes': 0}, '@cupy:0')
    text = open(path).read()
    assert text.splitlines()[2].startswith('**PASS** on GPU 0: NVIDIA H100 80GB HBM3')
    assert '1 of 4 outputs exact, 3 within' in text
    assert '| [gpu_random](gpu_random.md) |' in text
    assert '| [gpu_random_tf32](gpu_random_tf32.md) |' in text and '| DIVERGES |' in text
    assert '2e-07 (`extractor/conv1_1`)' in text and '4e-06 (`decode[0]/score`)' in text
    assert '| 0 | 1609 | 1609 | 1609 | 0.999998 |' in text
    assert '| cudnn | not used: this CuPy has no cuDNN module' in text
    assert '| parity | PASS | 12.3 |' in text
