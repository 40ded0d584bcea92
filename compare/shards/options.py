"""The scoring options of a merge, each checked before the merge writes anything.

``python -m compare.merge`` scores with its own scoring options where given,
else with those the shards ran with (meta.json's ``args``, which
:mod:`compare.shards.check` makes them agree on). Both are checked as
``compare/run.py`` checks its own before it starts
(:func:`compare.runner.cli.validate`): a ``--score-thresh nan`` given to the
merge stops it before any file is written, and so does a value in the
shards' meta.json that scoring would refuse (an annotations file missing on
this machine, say), naming the shard and the option that replaces it.
"""
import math

from compare.errors import UserError
from compare.paths import display_path
from replicate.errors import one_line


def _score_thresh(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and 0 <= value <= 1):
        raise UserError('--score-thresh must be a number between 0 and 1, got {!r}; pass the '
                        'operating point, such as 0.5'.format(value))


def _box_convention(value):
    from compare.score.conventions import get
    if not isinstance(value, str):
        raise UserError('--box-convention must be a name, got {!r}'.format(value))
    get(value)


def _iou(value):
    from compare.score.conventions import get
    get(None, value)


def _coco_evaluator(value):
    from compare.score.coco_eval import check
    if not isinstance(value, str):
        raise UserError('--coco-evaluator must be a name, got {!r}'.format(value))
    check(value)


def _pair(value):
    from compare.score.pairs import parse_pair
    if not isinstance(value, list) or not all(isinstance(text, str) for text in value):
        raise UserError('--pair must be a list of A=B, got {!r}'.format(value)[:200])
    for text in value:
        parse_pair(text)


def _annotations(value):
    from compare.runner.scoring import check_annotations
    if not isinstance(value, str):
        raise UserError('--annotations must be a path, got {!r}'.format(value)[:200])
    check_annotations(value)


#: How each scoring option (meta.json ``args`` key) is checked: every option
#: of :func:`compare.runner.scoring.add_scoring_options` has one.
CHECKS = {'annotations': _annotations, 'score_thresh': _score_thresh,
          'box_convention': _box_convention, 'iou': _iou, 'coco_evaluator': _coco_evaluator,
          'pair': _pair}


def given(options):
    """The options the merge was given (``{key: value}`` of those not None),
    each checked (the annotations read).

    Raises:
        UserError: the first that scoring would refuse, as the run says it.
    """
    found = {key: value for key, value in options.items() if value is not None}
    for key, value in found.items():
        CHECKS[key](value)
    return found


def effective(args, mine):
    """``{key: value}`` the merged run scores with: ``mine`` (:func:`given`),
    else the shards' ``args`` (absent keys left out)."""
    found = {key: args[key] for key in CHECKS if args.get(key) is not None}
    found.update(mine)
    return found


def check_shards(args, mine, label):
    """Each option taken from the shards' ``args`` (those not in ``mine``)
    checked as :func:`given` checks the merge's own.

    Raises:
        UserError: naming ``label`` (the shard whose meta.json holds it), the
            option, and that passing it to the merge replaces it.
    """
    for key, value in effective(args, mine).items():
        if key in mine:
            continue
        option = '--' + key.replace('_', '-')
        try:
            CHECKS[key](value)
        except UserError as exc:
            raise UserError('{} ran with {} {}, which cannot score the merged run ({}); pass '
                            '{} to the merge'.format(label, option, str(value)[:80],
                                                     one_line(exc), option)) from None


def recorded(mine):
    """``mine`` as meta.json's ``args`` records options (paths as
    :func:`compare.paths.display_path`, as the run records its own)."""
    from compare.score.ground_truth import NO_ANNOTATIONS
    found = dict(mine)
    if found.get('annotations') not in (None, NO_ANNOTATIONS):
        found['annotations'] = display_path(found['annotations'])
    return found
