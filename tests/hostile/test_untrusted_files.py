"""Hostile suite, class A "untrusted files": no code runs from a file we read.

A plain pickle named like a weight file (.npz), given to the harness or to the
parity tool as weights or as its saved reference, is refused in one line
naming it, and its payload never runs. The other cases of the class are
proven where their reader is tested (tests/hostile/cases.py maps each).
"""
import os
import pickle
import shutil

import pytest
from hostile_helpers import FAST, clean, every, images, parity, rows, run


class _Payload:
    """Unpickling this creates the file ``marker`` (a stand-in for any code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def _pickle(tmp_path, name):
    """``(path, marker)``: a plain pickle at ``tmp_path/name`` whose loading
    would create ``marker``."""
    marker = str(tmp_path / 'PWNED')
    path = tmp_path / name
    with open(path, 'wb') as f:
        pickle.dump(_Payload(marker), f)
    return str(path), marker


def test_plain_pickle_named_npz(tmp_path, capsys):
    path, marker = _pickle(tmp_path, 'w.npz')
    clean(parity(capsys, '--weights', path, '--out', tmp_path / 'p'), 2, path)
    err = clean(run(capsys, images(tmp_path / 'i'), '-d', 'ours:' + path, '--out',
                    tmp_path / 'o', *FAST), 2)
    (line,) = [line for line in err.splitlines() if path in line]
    assert line.startswith('detector ours: failed: '), line
    assert not os.path.exists(marker), 'payload ran'


def test_parity_reference_pickle(tmp_path, capsys):
    path, marker = _pickle(tmp_path, 'ref.npz')
    clean(parity(capsys, '--reference', path, '--out', tmp_path / 'p'), 2, path)
    assert not os.path.exists(marker), 'payload ran'


FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures')


@pytest.mark.parametrize('content', [
    # ~9 s each (TensorFlow loads the export): one in the default run
    pytest.param(b'a {' * 100000 + b'}' * 100000, id='deep', marks=pytest.mark.slow),
    pytest.param(b'\xff\xfe', id='bytes', marks=pytest.mark.slow),
    pytest.param(b'model { ssd { num_classes: 90 ', id='cut'),
])
def test_odapi_pipeline_config_broken(tmp_path, capsys, content):
    """An export whose pipeline.config is nested too deeply, not UTF-8 or cut
    short: its detector fails in one line naming the file (exit 3), the other runs."""
    export = tmp_path / 'export'
    shutil.copytree(os.path.join(FIXTURES, 'odapi_ssd_mobilenet_v2'), export)
    (export / 'pipeline.config').write_bytes(content)
    out = tmp_path / 'o'
    err = clean(run(capsys, images(tmp_path / 'i', 1), '-d', 'ours-odapi:{}'.format(export),
                    '-d', 'fake', '--out', out, *FAST), 3)
    (line,) = [line for line in err.splitlines() if line.startswith('incomplete:')]
    assert 'pipeline.config' in line and 'failed' in line, line
    assert str(export / 'pipeline.config') in line and 'traceback in' not in err, err
    assert rows(out, 'fake') == every(1)
