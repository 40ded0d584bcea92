"""A batch iterator whose every random choice is a function of the seed, the
epoch and the sample: shuffling and augmentation replay exactly after a resume.

Chainer's ``SerialIterator`` shuffles with the global numpy state and
ChainerCV's transforms draw from the global ``random`` state; neither is in a
snapshot, so a resumed run would see other batches. Here the order of epoch e
is ``default_rng([seed, stream, e]).permutation(n)`` and sample i of epoch e
is transformed with ``random.Random`` seeded by ``(seed, stream, e, i)``:
the iterator's state is three numbers (epoch, position, is_new_epoch).
``stream`` tells data-parallel workers apart.
"""
import concurrent.futures
import random
import threading

import chainer
import numpy as np


def sample_rng(seed, stream, epoch, index):
    """The ``random.Random`` of one sample of one epoch."""
    state = np.random.SeedSequence([seed, stream, epoch, index]).generate_state(2)
    return random.Random(int(state[0]) << 32 | int(state[1]))


class SeededIterator(chainer.dataset.Iterator):
    """Batches of ``transform(dataset[i], rng, coin)``.

    Args:
        dataset: indexable, ``len``-able.
        batch_size (int): samples per batch (batches span epochs, as
            ``SerialIterator``'s do).
        seed (int), stream (int): see the module docstring.
        transform: callable ``(sample, rng, coin) -> example``, or None to
            yield the samples themselves.
        repeat (bool), shuffle (bool): as ``SerialIterator``.
        workers (int): threads preparing batches (OpenCV and numpy release
            the GIL): each batch is transformed in parallel and the next one
            is prepared while the caller trains on this one. 0 transforms in
            the calling thread. Results do not depend on it.
    """

    def __init__(self, dataset, batch_size, seed=0, stream=0, transform=None, repeat=True,
                 shuffle=True, workers=0):
        if len(dataset) == 0:
            raise ValueError('the dataset is empty')
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed, self.stream = seed, stream
        self.transform = transform
        self._repeat, self._shuffle = repeat, shuffle
        self._pool = concurrent.futures.ThreadPoolExecutor(workers) if workers else None
        self._ahead = None  # (epoch, position, futures of the next batch)
        self.reset()

    def reset(self):
        self.epoch = 0
        self.current_position = 0
        self.is_new_epoch = False
        self._previous_epoch_detail = -1.0

    def _order(self, epoch):
        n = len(self.dataset)
        if not self._shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.stream, epoch]).permutation(n)

    def _example(self, epoch_index):
        epoch, index = epoch_index
        sample = self.dataset[index]
        if self.transform is None:
            return sample
        rng = sample_rng(self.seed, self.stream, epoch, index)
        return self.transform(sample, rng, lambda: rng.randrange(2))

    def _plan(self, epoch, position):
        """The (epoch, index) pairs of the batch starting at (epoch,
        position), and the (epoch, position) after it."""
        n = len(self.dataset)
        wanted = []
        while len(wanted) < self.batch_size:
            take = self._order(epoch)[position:position + self.batch_size - len(wanted)]
            wanted += [(epoch, int(i)) for i in take]
            position += len(take)
            if position >= n:
                epoch, position = epoch + 1, 0
                if not self._repeat:
                    break
        return wanted, epoch, position

    def _submit(self, epoch, position):
        wanted, _, _ = self._plan(epoch, position)
        return epoch, position, [self._pool.submit(self._example, item) for item in wanted]

    def __next__(self):
        if not self._repeat and self.epoch > 0:
            raise StopIteration
        self._previous_epoch_detail = self.epoch_detail
        wanted, epoch, position = self._plan(self.epoch, self.current_position)
        if self._pool is None:
            batch = [self._example(item) for item in wanted]
        else:
            ahead, self._ahead = self._ahead, None
            if ahead is None or ahead[:2] != (self.epoch, self.current_position):
                ahead = self._submit(self.epoch, self.current_position)
            batch = [future.result() for future in ahead[2]]
            if self._repeat or epoch == 0:
                self._ahead = self._submit(epoch, position)
        self.is_new_epoch = epoch > self.epoch
        self.epoch, self.current_position = epoch, position
        return batch

    next = __next__

    @property
    def epoch_detail(self):
        return self.epoch + self.current_position / len(self.dataset)

    @property
    def previous_epoch_detail(self):
        return None if self._previous_epoch_detail < 0 else self._previous_epoch_detail

    def serialize(self, serializer):
        self.epoch = serializer('epoch', self.epoch)
        self.current_position = serializer('current_position', self.current_position)
        self.is_new_epoch = serializer('is_new_epoch', self.is_new_epoch)
        self._previous_epoch_detail = serializer('previous_epoch_detail',
                                                 self._previous_epoch_detail)

    def finalize(self):
        """Stop the worker threads, waiting for them unless this runs in one of
        them (the garbage collector may call ``__del__`` there; a thread
        cannot join itself)."""
        if self._pool is not None:
            inside = threading.current_thread() in getattr(self._pool, '_threads', ())
            self._pool.shutdown(wait=not inside)
