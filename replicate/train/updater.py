"""The training step, refusing to apply a non-finite loss.

A NaN or infinite loss stops training before the update (the parameters stay
as they were), with :class:`NonFiniteLossError`: the command reports it in
one line and the snapshots already written stay the last good ones.
"""
import chainer
import numpy as np

from replicate.errors import UserError


class NonFiniteLossError(UserError):
    """The loss of a batch was NaN or infinite."""


class GuardedUpdater(chainer.training.updaters.StandardUpdater):
    """StandardUpdater whose step checks the loss before backward and update.

    Args:
        iterator, optimizer, device: as StandardUpdater's.
        comm: ChainerMN communicator or None; with one, every worker stops
            when any worker's loss is not finite (none waits forever).
    """

    def __init__(self, iterator, optimizer, device=None, comm=None):
        super().__init__(iterator, optimizer, device=device)
        self.comm = comm

    def update_core(self):
        iterator = self._iterators['main']
        in_arrays = self.converter(iterator.next(), self.input_device)
        optimizer = self._optimizers['main']
        chain = optimizer.target
        loss = chain(*in_arrays)
        bad = int(not np.isfinite(float(loss.array)))
        if self.comm is not None:
            bad = self.comm.allreduce_obj(bad)
        if bad:
            raise NonFiniteLossError(
                'the loss became {} at iteration {}'.format(float(loss.array),
                                                           self.iteration + 1))
        chain.cleargrads()
        loss.backward()
        del loss
        optimizer.update()
        if self.auto_new_epoch and iterator.is_new_epoch:
            optimizer.new_epoch(auto=True)
