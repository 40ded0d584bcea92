"""``python -m replicate.train``: train an SSD on Pascal VOC folders, a COCO
JSON, or the generated shapes dataset (``python -m replicate.datasets.synthetic``).

Defaults are the SSD300 recipe (:mod:`replicate.train.recipe`) with
ChainerCV's augmentation (:mod:`replicate.train.augment`). Writes to --out:
``log`` (the LogReport: a JSON list), ``snapshot_iter_N.npz`` (resumable),
``model.npz`` (the trained model, :func:`replicate.train.snapshot.load_model`).

Fine-tuning to a new class set (the paper's recipe): ``--finetune-from
imagenet|voc0712|PATH --freeze-base``: the base (or a whole SSD) from the
file, new class heads, only SSD's own layers trained. ``--finetune-from
tf:EXPORT_DIR`` does the same from a TF Object Detection API export: the
model is our port of it (SSD-MobileNetV2 as its pipeline.config describes,
softmax scores: :mod:`replicate.train.odapi_source`), ``--freeze-base``
freezes the MobileNetV2 base.

Data-parallel: ``mpiexec -n N python -m replicate.train ... --communicator
naive`` (ChainerMN over MPI; 'naive' is the one that needs no GPU). The batch
size is the total over workers.

A user error (missing file, malformed annotation, a snapshot that does not
fit) prints one line ``error: ...`` and exits with 2; a NaN loss stops
training (exit 3) naming the last good snapshot.
"""
import argparse
import sys

from replicate.errors import UserError
from replicate.train import odapi_source
from replicate.train import recipe as R
from replicate.train.models import ARCHS, ODAPI
from replicate.train.run import PeerFailed, train

#: Options that define what is trained; a resumed run keeps the snapshot's.
RECIPE = ('model', 'insize', 'width', 'ratios', 'batch_size', 'lr', 'lr_steps', 'seed',
          'freeze_base', 'augment')
DEFAULTS = {'model': 'ssd300', 'insize': 128, 'width': 16, 'ratios': 'ssd',
            'batch_size': R.BATCH_SIZE, 'lr': R.LR, 'lr_steps': list(R.LR_STEPS), 'seed': 0,
            'freeze_base': False, 'augment': True}


def _int_list(text):
    try:
        return [int(v) for v in text.split(',') if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError('expected comma-separated integers, got {!r}'.format(
            text)) from None


def parser():
    p = argparse.ArgumentParser(prog='python -m replicate.train', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    data = p.add_argument_group('data')
    data.add_argument('--train', required=True,
                      help='a Pascal VOC folder (Annotations/, JPEGImages/, ImageSets/Main/) '
                           'or a COCO .json')
    data.add_argument('--train-split', default='trainval', help='VOC split (default trainval)')
    data.add_argument('--val', help='validation data (default: --train, when it is a VOC '
                                    'folder with the --val-split split)')
    data.add_argument('--val-split', default='val', help='VOC split (default val)')
    data.add_argument('--classes', type=lambda s: [c.strip() for c in s.split(',')],
                      help='class names in label order (default: label_names.txt of the '
                           'VOC folder, else the 20 VOC classes; COCO: its categories)')
    data.add_argument('--image-dir', help="COCO images folder (default: the JSON's folder)")
    model = p.add_argument_group('model (recipe: a resumed run keeps its snapshot\'s)')
    model.add_argument('--model', choices=ARCHS,
                       help='ssd300 (default), ssd512, or small (replicate.ssd.small.SmallSSD)')
    model.add_argument('--insize', type=int, help='small: input side (default 128)')
    model.add_argument('--width', type=int, help='small: base width (default 16)')
    model.add_argument('--ratios', choices=('2', '2,3', 'ssd'),
                       help='small: aspect ratio set (default ssd)')
    model.add_argument('--finetune-from', metavar='SOURCE',
                       help='imagenet, voc0712 (ssd300/ssd512) or a weights/model/snapshot '
                            '.npz: everything but the class heads is loaded from it; '
                            'tf:EXPORT_DIR: an OD API SSD-MobileNetV2 export, which is then '
                            'the model (not with --model)')
    model.add_argument('--freeze-base', action='store_const', const=True,
                       help='train only the SSD layers (not the base network)')
    recipe = p.add_argument_group('recipe (defaults: the SSD300 paper / ChainerCV)')
    recipe.add_argument('--batch-size', type=int, help='total batch (default 32)')
    recipe.add_argument('--lr', type=float, help='initial learning rate (default 1e-3)')
    recipe.add_argument('--lr-steps', type=_int_list,
                        help='iterations where lr is multiplied by 0.1 (default 80000,100000)')
    recipe.add_argument('--seed', type=int, help='seed of initialisation, order and '
                                                 'augmentation (default 0)')
    recipe.add_argument('--no-augment', dest='augment', action='store_const', const=False,
                        help='resize and encode only')
    run = p.add_argument_group('run')
    run.add_argument('--iterations', type=int, default=R.ITERATIONS,
                     help='stop after this many updates (default 120000)')
    run.add_argument('--out', default='result', help='output folder (default result)')
    run.add_argument('--resume', metavar='SNAPSHOT', help='a snapshot_iter_N.npz to continue')
    run.add_argument('--eval-interval', type=int, default=10000,
                     help='VOC07 mAP on the validation data every N iterations and at the end '
                          '(0: at the end only)')
    run.add_argument('--snapshot-interval', type=int, default=10000,
                     help='snapshot every N iterations and at the end (0: at the end only)')
    run.add_argument('--log-interval', type=int, default=10)
    run.add_argument('--nms-thresh', type=float,
                     help='evaluation NMS IoU (default 0.45; an OD API model: its '
                          'pipeline.config\'s)')
    run.add_argument('--score-thresh', type=float,
                     help='evaluation score (default 0.01; an OD API model: its '
                          'pipeline.config\'s)')
    run.add_argument('--device', default='@numpy', help="@numpy or @cupy:N")
    run.add_argument('--loaders', type=int, default=0,
                     help='threads preparing batches (0: in the training thread)')
    run.add_argument('--communicator', help="ChainerMN communicator ('naive' on CPUs); run "
                                            'under mpiexec')
    run.add_argument('--quiet', action='store_true', help='no progress bar or printed log')
    return p


def resolve_recipe(args, snapshot_meta):
    """The recipe: the snapshot's on resume (explicit differing options are
    an error), else the options over :data:`DEFAULTS`."""
    given = {key: getattr(args, key) for key in RECIPE if getattr(args, key) is not None}
    if odapi_source.is_export(args.finetune_from):
        if args.model is not None:
            raise UserError('--model {} and --finetune-from {}: the export\'s '
                            'pipeline.config defines the model; drop --model'.format(
                                args.model, args.finetune_from))
        given['model'] = ODAPI
    if snapshot_meta is None:
        return dict(DEFAULTS, **given)
    saved = dict(snapshot_meta['recipe'])
    for key, value in given.items():
        if saved.get(key) != value:
            raise UserError('--{} {} differs from the snapshot {} ({}): a resumed run keeps '
                            'its recipe; drop the option'.format(
                                key.replace('_', '-'), value, args.resume, saved.get(key)))
    return saved


def check_args(args):
    for name in ('iterations', 'log_interval'):
        if getattr(args, name) < 1:
            raise UserError('--{} must be >= 1'.format(name.replace('_', '-')))
    for name in ('eval_interval', 'snapshot_interval', 'loaders'):
        if getattr(args, name) < 0:
            raise UserError('--{} must be >= 0'.format(name.replace('_', '-')))
    if args.resume and args.finetune_from:
        raise UserError('--resume and --finetune-from exclude each other: a snapshot '
                        'already holds the weights')
    if args.batch_size is not None and args.batch_size < 1:
        raise UserError('--batch-size must be >= 1')


def main(argv=None):
    args = parser().parse_args(argv)
    comm = None
    try:
        check_args(args)
        if args.communicator:
            from replicate.train.mpi import make_communicator
            comm = make_communicator(args.communicator)
        return train(args, resolve_recipe, comm)
    except PeerFailed:
        return 2
    except UserError as error:
        print('error: {}'.format(error), file=sys.stderr)
        if comm is not None and comm.size > 1 and getattr(error, 'during_training', False):
            # the other workers wait in a collective for this one: stop them all
            sys.stderr.flush()
            comm.mpi_comm.Abort(2)
        return 2
