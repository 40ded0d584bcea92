"""Snapshot files: plain arrays only (None and strings included), read back
without pickle; anything else is refused."""
import numpy as np
import pytest
from chainer.serializers import DictionarySerializer

from replicate.errors import UserError
from replicate.train import snapshot


class Thing:
    """An object with Chainer's serialization protocol."""

    def __init__(self, a=None, b='text', c=(0, 1, 2)):
        self.a, self.b, self.c = a, b, np.array(c, np.float32)

    def serialize(self, serializer):
        self.a = serializer('a', self.a)
        self.b = serializer('b', self.b)
        self.c = serializer('c', self.c)


def write(path, thing, kind='snapshot'):
    serializer = DictionarySerializer()
    serializer.save(thing)
    snapshot._write(str(path), snapshot._to_arrays(serializer.target),
                    {'format': snapshot.FORMAT, 'kind': kind})


def test_none_and_strings_round_trip_without_pickle(tmp_path):
    write(tmp_path / 's.npz', Thing(a=None, b='hello'))
    with np.load(str(tmp_path / 's.npz'), allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)
    arrays, meta = snapshot._read(str(tmp_path / 's.npz'), ('snapshot',))
    restored = Thing(a=5, b='other', c=(9, 9, 9))
    snapshot._deserialize(str(tmp_path / 's.npz'), arrays, restored)
    assert restored.a is None and restored.b == 'hello'
    np.testing.assert_array_equal(restored.c, [0, 1, 2])
    assert meta['kind'] == 'snapshot'


def test_object_arrays_are_refused_on_writing():
    with pytest.raises(TypeError, match='without pickle'):
        snapshot._to_arrays({'x': np.array([{'a': 1}], dtype=object)})


def test_wrong_kind_and_misfit(tmp_path):
    write(tmp_path / 'm.npz', Thing(), kind='model')
    with pytest.raises(UserError, match='is a model file'):
        snapshot.load_snapshot(str(tmp_path / 'm.npz'), Thing())
    write(tmp_path / 's.npz', Thing())
    arrays, _ = snapshot._read(str(tmp_path / 's.npz'), ('snapshot',))
    del arrays['c']
    with pytest.raises(UserError, match='does not fit'):
        snapshot._deserialize(str(tmp_path / 's.npz'), arrays, Thing())
