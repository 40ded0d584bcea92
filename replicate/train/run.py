"""One training run from resolved options (the body of ``python -m replicate.train``)."""
import hashlib
import os
import random
import sys

import chainer
import numpy as np
from chainer.backends import cuda

from replicate.device import check_device
from replicate.errors import UserError
from replicate.train.data import load_dataset
from replicate.train.finetune import finetune_from
from replicate.train.models import ODAPI, ModelSpec
from replicate.train.odapi_source import export_dir, read_pipeline_text
from replicate.train.snapshot import load_snapshot, read_meta, save_model
from replicate.train.trainer import build_trainer, last_snapshot
from replicate.train.updater import NonFiniteLossError


class Run:
    """The options of a run after resolution (see :func:`train`)."""

    def __init__(self, args, recipe, meta, device):
        self.recipe = recipe
        self.meta = meta
        self.device = device
        for name in ('iterations', 'eval_interval', 'snapshot_interval', 'log_interval', 'out',
                     'loaders', 'quiet'):
            setattr(self, name, getattr(args, name))


def _shard(dataset, comm, seed):
    """This worker's equal share of a seeded permutation (the remainder is
    dropped so that every worker's epoch has the same length)."""
    if comm is None or comm.size == 1:
        return dataset
    # 7919: any constant keeps this permutation apart from the epoch orders
    order = np.random.default_rng([seed, 7919]).permutation(len(dataset))
    per = len(dataset) // comm.size
    if per == 0:
        raise UserError('{} training images for {} workers: need at least one each'.format(
            len(dataset), comm.size))
    return dataset.subset(order[comm.rank * per:(comm.rank + 1) * per])


def _validation(args, names):
    if args.val is None:
        if args.train.lower().endswith('.json'):
            return None
        split = os.path.join(args.train, 'ImageSets', 'Main', args.val_split + '.txt')
        if not os.path.isfile(split):
            return None
        path = args.train
    else:
        path = args.val
    val = load_dataset(path, args.val_split, names, args.image_dir, evaluation=True)
    if val.label_names != tuple(names):
        raise UserError('validation classes of {} ({}) differ from the training classes '
                        '({})'.format(path, ','.join(val.label_names), ','.join(names)))
    return val


def _say(comm, text):
    if comm is None or comm.rank == 0:
        print(text, flush=True)


def seed_everything(seed):
    """Initialisation draws from numpy's and Python's global generators."""
    np.random.seed(seed)
    random.seed(seed)


def parameter_digest(model):
    """SHA-256 (16 hex digits) of every parameter, in key order."""
    digest = hashlib.sha256()
    for name, param in sorted(model.namedparams()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(cuda.to_cpu(param.array)).tobytes())
    return digest.hexdigest()[:16]


#: Evaluation post-processing of the VGG-16 and small SSDs ('evaluate' preset).
NMS_THRESH, SCORE_THRESH = 0.45, 0.01


def model_spec(args, recipe, names, snapshot_meta):
    """The :class:`ModelSpec` of the run; an 'odapi' model takes the
    pipeline.config of the snapshot (on resume) or of the export."""
    pipeline = ''
    if recipe['model'] == ODAPI:
        pipeline = (snapshot_meta['model'].get('pipeline', '') if snapshot_meta
                    else read_pipeline_text(export_dir(args.finetune_from)))
    return ModelSpec(recipe['model'], len(names), recipe['insize'], recipe['width'],
                     recipe['ratios'], pipeline)


def set_evaluation(model, arch, args):
    """Post-processing of the validation mAP: the 'evaluate' preset with
    --nms-thresh and --score-thresh; an 'odapi' model keeps its
    pipeline.config's (the OD API's own, also what the comparison harness
    runs), so those options are refused for it."""
    if arch == ODAPI:
        given = [flag for flag, value in (('--nms-thresh', args.nms_thresh),
                                          ('--score-thresh', args.score_thresh))
                 if value is not None]
        if given:
            raise UserError('{}: an OD API model evaluates with the post-processing of its '
                            'pipeline.config (batch_non_max_suppression); drop the '
                            'option'.format(' and '.join(given)))
        return
    model.use_preset('evaluate')
    model.nms_thresh = NMS_THRESH if args.nms_thresh is None else args.nms_thresh
    model.score_thresh = SCORE_THRESH if args.score_thresh is None else args.score_thresh


class PeerFailed(UserError):
    """Another worker failed to set up (it printed why); exit quietly."""


def prepare(args, recipe_of, comm=None):
    """Everything before the first update: (trainer, model, meta).

    Args:
        recipe_of: (args, snapshot meta or None) -> the recipe dict.
    """
    # under MPI each worker takes the GPU of its local rank
    device_spec = (args.device if comm is None or args.device == '@numpy'
                   else '@cupy:{}'.format(comm.intra_rank))
    check_device(device_spec)
    snapshot_meta = read_meta(args.resume, ('snapshot',)) if args.resume else None
    recipe = recipe_of(args, snapshot_meta)
    classes = args.classes or (snapshot_meta['label_names'] if snapshot_meta else None)
    train_set = load_dataset(args.train, args.train_split, classes, args.image_dir)
    names = list(train_set.label_names)
    if snapshot_meta and names != snapshot_meta['label_names']:
        raise UserError('the classes of {} ({}) differ from those of the snapshot {} ({})'
                        .format(args.train, ','.join(names), args.resume,
                                ','.join(snapshot_meta['label_names'])))
    val = _validation(args, names)
    spec = model_spec(args, recipe, names, snapshot_meta)
    seed_everything(recipe['seed'])
    model = spec.build()
    set_evaluation(model, spec.arch, args)
    if args.finetune_from:
        path, loaded, kept = finetune_from(model, args.finetune_from, spec.arch)
        _say(comm, 'fine-tuning from {}: {} arrays loaded, {} initialised (class heads '
                   'included)'.format(path, len(loaded), len(kept)))
    device = chainer.get_device(device_spec)
    device.use()
    model.to_device(device)
    meta = {'model': spec.to_dict(), 'label_names': names, 'recipe': recipe}
    trainer = build_trainer(Run(args, recipe, meta, device), model,
                            _shard(train_set, comm, recipe['seed']), val, comm)
    if args.resume:
        load_snapshot(args.resume, trainer)
    _say(comm, 'training {} on {} images ({} classes: {}), validation {} images, {} worker(s)'
               '; output {}'.format(spec.describe(), len(train_set), len(names),
                                    ','.join(names), len(val) if val else 0,
                                    comm.size if comm else 1, args.out))
    return trainer, model, meta


def _prepare_together(args, recipe_of, comm):
    """:func:`prepare` on every worker; if any fails, the lowest failing rank
    raises its error and the others :class:`PeerFailed`, so every worker
    exits instead of waiting in a collective for the one that failed."""
    error = None
    try:
        prepared = prepare(args, recipe_of, comm)
    except UserError as failure:
        error = failure
    if comm is None:
        if error is not None:
            raise error
        return prepared
    failed = comm.allreduce_obj([comm.rank] if error is not None else [])
    if failed:
        if comm.rank == min(failed):
            raise error
        raise PeerFailed('worker {} failed'.format(min(failed)))
    return prepared


def train(args, recipe_of, comm=None):
    """Train; returns the exit code (0, or 3 after a non-finite loss).

    Raises:
        UserError: bad input (set-up errors are agreed between workers: see
        :func:`_prepare_together`; later ones are not).
    """
    trainer, model, meta = _prepare_together(args, recipe_of, comm)
    try:
        # overflow on the way to a NaN is reported by the guard, in one line
        with np.errstate(over='ignore', invalid='ignore'):
            trainer.run(show_loop_exception_msg=False)
    except NonFiniteLossError as error:
        if comm is not None and comm.rank != 0:
            return 3
        last = last_snapshot(args.out)
        print('error: {}: training stopped before applying it; the last good snapshot is {} '
              '(resume from it with a lower --lr, or check the data)'.format(
                  error, last or 'none (no snapshot was written yet)'), file=sys.stderr)
        return 3
    except UserError as error:
        error.during_training = True
        raise
    if comm is not None:
        print('rank {}/{}: parameter digest {}'.format(comm.rank, comm.size,
                                                      parameter_digest(model)), flush=True)
    if comm is None or comm.rank == 0:
        path = os.path.join(args.out, 'model.npz')
        save_model(path, model, dict(meta, iteration=int(trainer.updater.iteration)))
        print('model written to {}'.format(path), flush=True)
    return 0
