"""The training step, refusing to go on from a non-finite loss or update.

A NaN or infinite loss stops training before the update, and an update that
leaves a parameter NaN or infinite (an overflow with a finite loss) stops it
right after, with :class:`NonFiniteLossError`, raised inside the step: the
snapshot extension of that iteration never runs, so the snapshots already
written are the last good ones, and the command reports it in one line.
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
        bad = int(not all(bool(chain.xp.isfinite(param.array).all())
                          for param in chain.params()))
        if self.comm is not None:
            bad = self.comm.allreduce_obj(bad)
        if bad:
            raise NonFiniteLossError('the parameters became NaN or infinite at iteration {} '
                                     '(the update overflowed)'.format(self.iteration + 1))
        if self.auto_new_epoch and iterator.is_new_epoch:
            optimizer.new_epoch(auto=True)
