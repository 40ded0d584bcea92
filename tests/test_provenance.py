"""The provenance block and the table writer every report relies on (provenance/)."""
import re

import numpy as np
import pandas as pd

from provenance.stamp import COMMIT_ENV, git_commit, provenance, provenance_markdown
from provenance.tables import frame_to_markdown, write_table


def test_provenance_has_versions_commit_device_date():
    info = provenance(extra={'seed': 3})
    assert list(info) == sorted(info)
    assert re.fullmatch(r'[0-9a-f]{40}(\+dirty)?|unknown', info['commit'])
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', info['date'])
    assert info['device'].startswith('CPU: ')
    assert info['version.numpy'] == np.__version__  # 1.26.4 (py310) or 2.x (py312)
    assert info['version.chainer'] == '7.8.1'
    assert info['seed'] == '3'
    assert all(isinstance(v, str) for v in info.values())


def test_commit_of_a_copy_without_git_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(COMMIT_ENV, raising=False)
    assert git_commit(str(tmp_path)) == 'unknown'
    monkeypatch.setenv(COMMIT_ENV, 'abc123')
    assert git_commit(str(tmp_path)) == 'abc123'


def test_gpu_device_is_described_or_said_unresolved():
    info = provenance(device='@cupy:0')
    assert info['device'].startswith('@cupy:0 (unresolved: ') or re.fullmatch(
        r'GPU 0: .+ \(compute capability \d+\.\d+; CUDA driver \d+\.\d+, runtime \d+\.\d+\)',
        info['device'])
    assert info['cudnn'].startswith(('not used', 'unknown', 'cuDNN'))


def test_provenance_markdown_escapes_pipes():
    text = provenance_markdown({'b': 'x|y', 'a': '1'})
    assert text.splitlines() == ['| key | value |', '| --- | --- |', '| a | 1 |', '| b | x\\|y |']


def test_write_table_sorted_fixed_format_and_rerun_identical(tmp_path):
    frame = pd.DataFrame({'name': ['b', 'a', 'c'], 'err': [1e-7, 0.5, 123456789.0]})
    stem = str(tmp_path / 'sub' / 't')
    out = write_table(frame, stem, sort_by=['name'])
    assert list(out['name']) == ['a', 'b', 'c']
    csv_text = (tmp_path / 'sub' / 't.csv').read_text()
    assert csv_text == 'name,err\na,0.5\nb,1e-07\nc,1.23457e+08\n'
    md_first = (tmp_path / 'sub' / 't.md').read_text()
    assert md_first.splitlines()[2] == '| a | 0.5 |'
    write_table(frame.iloc[::-1], stem, sort_by=['name'])
    assert (tmp_path / 'sub' / 't.csv').read_text() == csv_text
    assert (tmp_path / 'sub' / 't.md').read_text() == md_first


def test_frame_to_markdown_header_and_rule():
    text = frame_to_markdown(pd.DataFrame({'x': [1], 'y': ['z']}))
    assert text == '| x | y |\n| --- | --- |\n| 1 | z |\n'


def test_file_sha256_matches_hashlib_over_chunks(tmp_path):
    import hashlib

    from provenance.stamp import file_sha256
    data = bytes(range(256)) * 5000  # 1.28 MB: two 1 MiB chunks
    path = tmp_path / 'w.npz'
    path.write_bytes(data)
    assert file_sha256(str(path)) == hashlib.sha256(data).hexdigest()
    assert file_sha256(str(path), chunk=7) == hashlib.sha256(data).hexdigest()


def test_blas_names_numpys_library_kernel_and_threads(monkeypatch):
    from threadpoolctl import threadpool_info

    from provenance.stamp import blas_description
    monkeypatch.setenv('OPENBLAS_CORETYPE', 'Haswell')  # read at call time, not at load
    text = blas_description()
    pool = [p for p in threadpool_info() if 'numpy' in p['filepath']][0]
    assert text == 'OpenBLAS {}, kernel {}, {} threads (OPENBLAS_CORETYPE Haswell)'.format(
        pool['version'], pool['architecture'], pool['num_threads'])
    assert provenance()['blas'] == text
