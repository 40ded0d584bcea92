"""Assemble the chainer Trainer of a run: iterator, guarded updater, the
recipe's schedule, evaluation, log, progress bar and snapshots."""
import copy
import os

import chainer
from chainer.training import extensions, triggers

from replicate.errors import UserError
from replicate.train.augment import PlainTransform, SSDAugmentation
from replicate.train.chain import MultiboxTrainChain
from replicate.train.evaluator import VOCEvaluator
from replicate.train.iterator import SeededIterator
from replicate.train.recipe import LR_FACTOR, freeze_base, make_optimizer
from replicate.train.snapshot import snapshot_extension
from replicate.train.updater import GuardedUpdater

REPORT_KEYS = ['epoch', 'iteration', 'lr', 'main/loss', 'main/loss/loc', 'main/loss/conf',
               'validation/main/map', 'elapsed_time']


def cpu_coder(model):
    """A copy of the model's coder on the CPU, for transforms."""
    coder = copy.copy(model.coder)
    coder.to_cpu()
    return coder


def make_transform(model, augment):
    """The training transform: ChainerCV's SSD augmentation, or none. A
    model with ``normalize_pixels`` (the OD API port) normalizes with it."""
    if augment:
        return SSDAugmentation(cpu_coder(model), model.insize, model.mean,
                               normalize=getattr(model, 'normalize_pixels', None))
    return PlainTransform(cpu_coder(model), model.insize, model.mean, model._prepare)


def _at(iterations):
    """A trigger firing at each of the given iterations."""
    return triggers.ManualScheduleTrigger(sorted(set(iterations)), 'iteration')


def _every(interval, iterations):
    """Iterations interval, 2 interval, ... and the last one."""
    return list(range(interval, iterations, interval)) + [iterations] if interval else \
        [iterations]


def build_trainer(run, model, train, val, comm=None):
    """The Trainer of one run.

    Args:
        run: the resolved options (see :mod:`replicate.train.cli`): recipe
            (batch_size, lr, lr_steps, seed, freeze_base, augment), iterations,
            eval/snapshot/log intervals, out, device, loaders, quiet, meta.
        model: the SSD, already on ``run.device``.
        train: the training dataset (this worker's shard); val: the
            validation dataset (evaluation datasets yield difficult flags) or
            None.
        comm: ChainerMN communicator or None; only rank 0 evaluates, logs
            and writes snapshots.
    """
    recipe = run.recipe
    rank, size = (comm.rank, comm.size) if comm is not None else (0, 1)
    if recipe['batch_size'] < size:
        raise UserError('--batch-size {} is smaller than the {} workers: the batch is the '
                        'total over workers'.format(recipe['batch_size'], size))
    chain = MultiboxTrainChain(model, comm=comm)
    optimizer = make_optimizer(chain, recipe['lr'], comm=comm)
    if recipe['freeze_base']:
        freeze_base(model)
    iterator = SeededIterator(train, recipe['batch_size'] // size, seed=recipe['seed'],
                              stream=rank, transform=make_transform(model, recipe['augment']),
                              workers=run.loaders)
    updater = GuardedUpdater(iterator, optimizer, device=run.device, comm=comm)
    trainer = chainer.training.Trainer(updater, (run.iterations, 'iteration'), run.out)
    steps = [s for s in recipe['lr_steps'] if s < run.iterations]
    if steps:
        trainer.extend(extensions.ExponentialShift('lr', LR_FACTOR, init=recipe['lr']),
                       trigger=_at(steps))
    if rank != 0:
        return trainer
    if val is not None:
        trainer.extend(VOCEvaluator(val, model, run.meta['label_names']),
                       trigger=_at(_every(run.eval_interval, run.iterations)))
    trainer.extend(snapshot_extension(run.meta),
                   trigger=_at(_every(run.snapshot_interval, run.iterations)))
    log = (run.log_interval, 'iteration')
    trainer.extend(extensions.observe_lr(), trigger=log)
    trainer.extend(extensions.LogReport(trigger=log))
    if not run.quiet:
        trainer.extend(extensions.PrintReport(REPORT_KEYS), trigger=log)
        trainer.extend(extensions.ProgressBar(update_interval=max(1, run.log_interval)))
    return trainer


def last_snapshot(out):
    """Path of the snapshot of the highest iteration in ``out``, or None."""
    found = []
    for name in os.listdir(out) if os.path.isdir(out) else ():
        stem = name[len('snapshot_iter_'):-len('.npz')]
        if name.startswith('snapshot_iter_') and name.endswith('.npz') and stem.isdigit():
            found.append((int(stem), name))
    return os.path.join(out, max(found)[1]) if found else None
