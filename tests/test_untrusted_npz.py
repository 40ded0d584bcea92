"""A weight file that would run code when unpickled is refused before anything
in it is unpickled, with one line naming the file, on every path that opens a
user's .npz: the model's loader, ``-d chainercv:FILE.npz``,
``-d ours:FILE.npz``, ``-d trained:FILE.npz`` and ``python -m replicate.parity
--weights FILE.npz``."""
import numpy as np
import pytest
from PIL import Image

import replicate
from compare.run import main as run_compare
from replicate.errors import WeightsError
from replicate.parity import cli as parity_cli


class _Payload:
    """Unpickling this creates the file ``marker`` (a stand-in for any code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def evil(tmp_path):
    """``(path of the .npz, marker path)``: numeric arrays plus one object array."""
    marker = tmp_path / 'unpickled.txt'
    path = tmp_path / 'weights.npz'
    np.savez(path, **{'extractor/conv1_1/b': np.zeros(64, np.float32),
                      'extractor/conv1_1/W': np.array([_Payload(str(marker))], dtype=object)})
    return path, marker


def test_the_payload_is_real(evil, tmp_path):
    """Read with pickles allowed, as chainer.serializers.load_npz reads, the file runs."""
    path, marker = evil
    with np.load(path, allow_pickle=True) as loaded:
        loaded['extractor/conv1_1/W']
    assert marker.exists()


def _one_line(err, path):
    lines = [line for line in err.splitlines() if str(path) in line]
    assert len(lines) == 1 and 'Traceback' not in err, err
    assert 'holds pickled Python objects; refused without unpickling anything' in lines[0]
    return lines[0]


def test_the_loader_refuses(evil):
    path, marker = evil
    with pytest.raises(WeightsError) as info:
        replicate.load_weights(replicate.SSD300(n_fg_class=20), str(path))
    assert '\n' not in str(info.value) and str(path) in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize('kind, start', [
    ('chainercv', 'cannot read weights file '), ('ours', 'cannot read weights file '),
    ('trained', 'cannot read ')])
def test_the_harness_refuses(evil, tmp_path, capsys, kind, start):
    path, marker = evil
    images = tmp_path / 'images'
    images.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(images / 'a.png')
    code = run_compare([str(images), '-d', '{}:{}'.format(kind, path), '--out',
                             str(tmp_path / 'run'), '--no-progress'])
    err = capsys.readouterr().err
    assert code == 2
    assert _one_line(err, path).startswith('detector {}: failed: {}{}'.format(kind, start, path))
    assert not marker.exists()


def test_the_parity_tool_refuses(evil, capsys):
    path, marker = evil
    assert parity_cli.main(['--weights', str(path)]) == 2
    err = capsys.readouterr().err
    assert _one_line(err, path).startswith('error: cannot read weights file')
    assert err.count('\n') == 1
    assert not marker.exists()
