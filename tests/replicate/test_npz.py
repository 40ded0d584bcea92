"""The one .npz reader tells apart a file that is not a zip archive, a
truncated one, one holding pickled objects and a good one."""
import numpy as np
import pytest

from replicate.errors import UserError, WeightsError
from replicate.npz import read_arrays


def write(path, content):
    with open(path, 'wb') as f:
        f.write(content)
    return str(path)


def test_a_good_file_gives_its_arrays(tmp_path):
    path = str(tmp_path / 'good.npz')
    np.savez(path, a=np.arange(3), b=np.ones((2, 2), np.float32))
    arrays = read_arrays(path)
    assert sorted(arrays) == ['a', 'b'] and arrays['a'].tolist() == [0, 1, 2]


@pytest.mark.parametrize('content, reason', [
    (b'garbage\n', 'not an .npz (zip) archive; expected X'),
    (b'', 'not an .npz (zip) archive (the file is empty); expected X'),
    (b'PK\x03\x04 cut short', 'truncated or corrupt .npz (zip) archive: '),
])
def test_not_an_archive_or_truncated(tmp_path, content, reason):
    path = write(tmp_path / 'bad.npz', content)
    with pytest.raises(WeightsError) as info:
        read_arrays(path, 'X', 'cannot read weights file', WeightsError)
    assert str(info.value).startswith('cannot read weights file {}: {}'.format(path, reason))
    assert 'pickled' not in str(info.value)


def test_a_cut_archive_is_truncated(tmp_path):
    good = str(tmp_path / 'good.npz')
    np.savez_compressed(good, a=np.arange(1000))
    with open(good, 'rb') as f:
        path = write(tmp_path / 'cut.npz', f.read()[:-40])
    with pytest.raises(UserError, match='truncated or corrupt .npz'):
        read_arrays(path)


def test_pickled_members_are_refused(tmp_path):
    path = str(tmp_path / 'evil.npz')
    np.savez(path, a=np.array([{'x': 1}], dtype=object))
    with pytest.raises(UserError) as info:
        read_arrays(path)
    assert 'holds pickled Python objects; refused without unpickling anything' in str(
        info.value)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(UserError, match='nope.npz: No such file or directory'):
        read_arrays(str(tmp_path / 'nope.npz'))
