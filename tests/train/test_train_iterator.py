"""The seeded iterator: batches depend on (seed, epoch, sample) only, so
threads, prefetching and a restore from its serialized state change nothing."""
import chainer
import numpy as np
import pytest

from replicate.train.iterator import SeededIterator


def noisy(sample, rng, coin):
    """A transform whose output shows the random draws."""
    return sample, rng.random(), coin()


def batches(iterator, n):
    return [iterator.next() for _ in range(n)]


@pytest.mark.parametrize('workers', [0, 3])
def test_same_batches_for_any_workers(workers):
    reference = batches(SeededIterator(list(range(10)), 4, seed=1, transform=noisy), 7)
    got = batches(SeededIterator(list(range(10)), 4, seed=1, transform=noisy,
                                 workers=workers), 7)
    assert got == reference
    # every epoch is a permutation, and epochs differ
    flat = [item[0] for batch in reference for item in batch]
    assert sorted(flat[:10]) == list(range(10)) and flat[:10] != flat[10:20]


def test_restored_state_continues_identically():
    iterator = SeededIterator(list(range(10)), 4, seed=2, transform=noisy, workers=2)
    batches(iterator, 3)
    state = {}
    iterator.serialize(chainer.serializers.DictionarySerializer(state))
    rest = batches(iterator, 4)
    fresh = SeededIterator(list(range(10)), 4, seed=2, transform=noisy, workers=2)
    fresh.next()  # a prefetched batch that the restore must discard
    fresh.serialize(chainer.serializers.NpzDeserializer(
        {key: np.asarray(value) for key, value in state.items()}))
    assert (fresh.epoch, fresh.current_position) == (1, 2)
    assert batches(fresh, 4) == rest


def test_streams_and_seeds_differ():
    a = batches(SeededIterator(list(range(10)), 5, seed=0, stream=0, transform=noisy), 2)
    b = batches(SeededIterator(list(range(10)), 5, seed=0, stream=1, transform=noisy), 2)
    c = batches(SeededIterator(list(range(10)), 5, seed=3, stream=0, transform=noisy), 2)
    assert a != b and a != c


def test_no_repeat_stops_after_one_epoch():
    iterator = SeededIterator(list(range(5)), 2, repeat=False, shuffle=False, workers=1)
    assert [len(b) for b in iterator] == [2, 2, 1]
