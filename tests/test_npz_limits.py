"""A weights .npz is bounded before anything in it is inflated (replicate/npz.py):
a zip bomb, a file of too many members, a member that is not a plain .npy of
numbers are each refused in one line naming the file and the limit, from the
zip's central directory and the .npy headers; the real files fit the limits."""
import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image

import replicate
from compare import limits
from compare.run import main as run_compare
from replicate import npz
from replicate.errors import UserError, WeightsError

#: What the bomb's one member claims once inflated: 2.5 GiB of float32.
CLAIMED = 5 * 2 ** 29


def _npy(array):
    """The bytes of ``array`` as an .npy file."""
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=False)
    return out.getvalue()


def _header(shape, descr='<f4'):
    """An .npy header alone declaring ``shape`` of ``descr``."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {'descr': descr, 'fortran_order': False,
                                               'shape': shape})
    return out.getvalue()


def _zip(path, members, method=zipfile.ZIP_DEFLATED):
    """Write ``{name: bytes}`` as a zip archive at ``path``."""
    with zipfile.ZipFile(path, 'w', method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _patch(path, signature, offset, fmt, value):
    """Overwrite the field at ``offset`` of each record starting with ``signature``."""
    data = bytearray(path.read_bytes())
    at = data.find(signature)
    while at >= 0:
        struct.pack_into(fmt, data, at + offset, value)
        at = data.find(signature, at + 1)
    path.write_bytes(bytes(data))


@pytest.fixture
def bomb(tmp_path):
    """An .npz of one member whose header and zip entries claim 2.5 GiB of float32
    (``CLAIMED`` bytes of data) while the file holds 4 KiB: what a zip bomb's
    central directory says, without making the test inflate it."""
    header = _header((CLAIMED // 4,))
    path = _zip(tmp_path / 'bomb.npz', {'extractor/conv1_1/W.npy': header + bytes(4096)})
    size = len(header) + CLAIMED
    _patch(path, b'PK\x03\x04', 22, '<L', size)  # local header: uncompressed size
    _patch(path, b'PK\x01\x02', 24, '<L', size)  # central directory: the same
    return path


def _refused(path, **kwargs):
    with pytest.raises(UserError) as info:
        npz.read_arrays(str(path), **kwargs)
    message = str(info.value)
    assert '\n' not in message and message.startswith('cannot read {}: '.format(path))
    assert message.endswith('; expected an .npz of numeric arrays')
    return message


def _no_reading(monkeypatch):
    """Make any inflating of a member's data fail the test."""
    def read_array(*args, **kwargs):
        raise AssertionError('a member was read before the limits were checked')
    monkeypatch.setattr(np.lib.format, 'read_array', read_array)


def test_the_bomb_is_real(bomb):
    """Read as np.load reads, the file asks for its 2.5 GiB before the read fails
    (or the machine cannot give them)."""
    tracemalloc.start()
    try:
        with np.load(bomb, allow_pickle=False) as loaded, pytest.raises(
                (ValueError, MemoryError, zipfile.BadZipFile)) as info:
            loaded['extractor/conv1_1/W']
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak >= CLAIMED or info.type is MemoryError


def test_a_zip_bomb_is_refused_before_anything_is_allocated(bomb, monkeypatch):
    _no_reading(monkeypatch)
    tracemalloc.start()
    try:
        message = _refused(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2 ** 20
    assert ("member 'extractor/conv1_1/W.npy' is 2.5 GiB uncompressed, over the limit of "
            "1 GiB per array (refused before inflating it)") in message


def test_the_weights_loader_names_the_file_and_the_limit(bomb):
    with pytest.raises(WeightsError) as info:
        replicate.ssd.weights.read_npz(str(bomb))
    assert str(info.value).startswith('cannot read weights file {}: member '.format(bomb))
    assert 'over the limit of 1 GiB per array' in str(info.value)


@pytest.mark.parametrize('kind, start', [('ours', 'cannot read weights file '),
                                         ('trained', 'cannot read ')])
def test_the_harness_refuses_the_bomb(bomb, tmp_path, capsys, kind, start):
    images = tmp_path / 'images'
    images.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(images / 'a.png')
    code = run_compare([str(images), '-d', '{}:{}'.format(kind, bomb), '--out',
                        str(tmp_path / 'run'), '--no-progress', '--no-speed'])
    err = capsys.readouterr().err
    assert code == 2 and 'Traceback' not in err
    (line,) = [line for line in err.splitlines() if str(bomb) in line]
    assert line.startswith('detector {}: failed: {}{}: member '.format(kind, start, bomb))
    assert 'over the limit of 1 GiB per array' in line


def test_a_highly_compressed_file_is_refused_by_its_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr(npz, 'RATIO_FLOOR', 2 ** 20)
    path = tmp_path / 'zeros.npz'
    np.savez_compressed(path, W=np.zeros(2 ** 20, np.float32))  # 4 MiB -> about 4 KiB
    _no_reading(monkeypatch)
    message = _refused(path)
    assert 'to 4 MiB, more than 100 times (a zip bomb' in message
    monkeypatch.undo()  # the real floor, 64 MiB, admits it
    assert npz.read_arrays(str(path))['W'].shape == (2 ** 20,)


def test_the_total_is_bounded(tmp_path, monkeypatch):
    path = tmp_path / 'two.npz'
    np.savez(path, a=np.zeros(1000, np.float32), b=np.zeros(1000, np.float32))
    monkeypatch.setattr(npz, 'MAX_TOTAL_BYTES', 6000)
    _no_reading(monkeypatch)
    assert 'its arrays are 8.1 KiB uncompressed, over the limit of 5.9 KiB' in _refused(path)


def test_many_members_are_refused_before_the_directory_is_parsed(tmp_path, monkeypatch):
    one = _npy(np.zeros(1, np.float32))
    path = _zip(tmp_path / 'many.npz', {'k{}.npy'.format(k): one
                                        for k in range(npz.MAX_MEMBERS + 1)}, zipfile.ZIP_STORED)

    def no_zipfile(*args, **kwargs):
        raise AssertionError('the central directory was parsed')
    monkeypatch.setattr(zipfile, 'ZipFile', no_zipfile)
    assert '10001 arrays, over the limit of 10000' in _refused(path)


def test_a_count_that_lies_is_caught_on_the_directory(tmp_path, monkeypatch):
    one = _npy(np.zeros(1, np.float32))
    path = _zip(tmp_path / 'lies.npz', {'k{}.npy'.format(k): one for k in range(5)})
    _patch(path, b'PK\x05\x06', 8, '<H', 1)  # the end record says 1 member on this disk
    _patch(path, b'PK\x05\x06', 10, '<H', 1)  # and 1 in all
    monkeypatch.setattr(npz, 'MAX_MEMBERS', 3)
    _no_reading(monkeypatch)
    assert ': 5 arrays, over the limit of 3' in _refused(path)
    monkeypatch.setattr(npz, 'MAX_MEMBERS', 10)
    monkeypatch.setattr(npz, 'MAX_DIRECTORY_BYTES', 100)
    assert 'its list of members takes' in _refused(path)


@pytest.mark.parametrize('members, words', [
    ({'a.npy': _npy(np.array(['2020-01-01'], 'datetime64[D]'))}, "'a.npy' holds dtype <M8[D]"),
    ({'a.npy': _npy(np.zeros(2, [('x', '<f4')]))}, "'a.npy' holds dtype structured"),
    ({'a.npy': _header((1000,)) + bytes(16)},
     "'a.npy' declares shape (1000,) of <f4 (4000 bytes) but holds 16 bytes"),
    ({'a.npy': b'not an array'}, "'a.npy' is not a plain .npy array"),
    ({'readme.txt': b'hello'}, "member 'readme.txt' is not an .npy array"),
    ({'a.npy': _header((1,), '|O') + bytes(8)},
     'holds pickled Python objects; refused without unpickling anything')])
def test_members_that_are_not_plain_arrays_are_refused(tmp_path, monkeypatch, members, words):
    path = _zip(tmp_path / 'odd.npz', members)
    _no_reading(monkeypatch)
    assert words in _refused(path)


def test_the_parity_fixture_reads_as_numpy_reads_it():
    path = 'tests/fixtures/parity_chainercv_random_b2.npz'
    arrays = npz.read_arrays(path)
    with np.load(path, allow_pickle=False) as loaded:
        assert sorted(arrays) == sorted(loaded.files)
        for key in loaded.files:
            assert arrays[key].dtype == loaded[key].dtype, key
            np.testing.assert_array_equal(arrays[key], loaded[key])
    assert all(array.flags.writeable for array in arrays.values())


@pytest.mark.parametrize('model', [replicate.SSD300, replicate.SSD512])
def test_real_weights_and_snapshots_fit_the_limits(model):
    """SSD300 and SSD512 at 80 classes, and a snapshot of either (the weights
    twice: momentum), within a quarter of every limit."""
    params = [param for _, param in model(n_fg_class=80).namedparams()]
    members = 2 * len(params) + 10
    largest = max(param.array.nbytes for param in params)
    total = 2 * sum(param.array.nbytes for param in params)
    assert 100 < members < npz.MAX_MEMBERS / 4
    assert 10 * 2 ** 20 < largest < npz.MAX_MEMBER_BYTES / 4
    assert 100 * 2 ** 20 < total < npz.MAX_TOTAL_BYTES / 4


def test_the_limits_are_in_the_help():
    assert npz.limits_text() in limits.help_text()
    assert '<= 10000 arrays' in npz.limits_text()
