"""The pairs a run is about: declared (``--pair A=B``) or inferred, and the
verdict for each.

A comparison run usually exists to compare a few pairs: an implementation
beside its reference (our SSD300 beside ChainerCV's; our Chainer port of an
OD API export beside TensorFlow running the export; our Chainer build of a
Caffe SSD beside OpenCV's DNN on the same files). The headline speaks of
those pairs (:mod:`compare.score.findings`); every pair is still in the
agreement tables.

Pairs come from ``--pair A=B`` (repeatable, detector names; on
``compare/run.py`` it is kept in meta.json's ``args`` and used by every later
scoring) or, when none is declared, are inferred: a detector of a kind in
:data:`PORTS` beside a detector of one of its reference kinds that runs the
same model (the same ARG in the two specs, the same recorded weights, or the
same weights checksum). Each pair's ``.common_nms`` variants, when both ran,
form a pair too. Kinds are read from the run's detector specs (meta.json
``args.detector``, in the order of the detectors meta.json lists).

Each pair also says what it compares, in words (:data:`PORT_WORDS`, with the
model named by the specs' ARG), when its two kinds are a port and its
reference: ``the Caffe SSD `res10-face`: our Chainer build vs OpenCV's DNN``.
"""
import dataclasses
import os

import pandas as pd

from compare.errors import UserError

#: kind -> the kinds it reimplements, nearest first: (our port, its reference).
PORTS = {
    'ours': ('chainercv',),
    'ours-onnx': ('ours', 'chainercv'),
    'ours-odapi': ('tf', 'tf1'),
    'caffe': ('opencv-dnn',),
}
#: (port kind, reference kind) -> what the pair compares; ``{model}`` is the
#: model the two specs name (their ARG, a path by its base name), or nothing.
PORT_WORDS = {
    ('ours', 'chainercv'): 'SSD300{model}: our Chainer code vs ChainerCV',
    ('ours-onnx', 'ours'): 'our SSD300{model}: ONNX Runtime vs Chainer',
    ('ours-onnx', 'chainercv'): 'SSD300{model}: ours in ONNX Runtime vs ChainerCV',
    ('ours-odapi', 'tf'): 'the TF2 OD API export{model}: our Chainer port vs TensorFlow',
    ('ours-odapi', 'tf1'): 'the TF1 OD API export{model}: our Chainer port vs TensorFlow',
    ('caffe', 'opencv-dnn'): "the Caffe SSD{model}: our Chainer build vs OpenCV's DNN",
}
#: What a pair of ``.common_nms`` variants compares.
VARIANT_WORDS = 'the same two through one common NMS'
#: The detectors run when ``--detector`` is not given (compare/run.py's default).
DEFAULT_SPECS = ('ours', 'chainercv')
VARIANT = '.common_nms'


@dataclasses.dataclass(frozen=True)
class Pair:
    """Two detectors the run compares: ``a`` (the port, when inferred) and
    ``b`` (its reference); ``how`` is ``'declared'``, ``'inferred'`` or
    ``'variant'`` (the ``.common_nms`` variants of a pair); ``what``: what it
    compares, in words (:data:`PORT_WORDS`; ``''`` when the kinds are not a
    port and its reference)."""
    a: str
    b: str
    how: str
    what: str = ''


def parse_pair(text):
    """``'A=B'`` -> ``(A, B)``; UserError for anything else."""
    a, sep, b = str(text).partition('=')
    if not sep or not a.strip() or not b.strip() or a.strip() == b.strip():
        raise UserError('--pair {!r}: write two different detector names as A=B (e.g. '
                        '--pair ours=chainercv)'.format(text))
    return a.strip(), b.strip()


def check_declared(declared, names):
    """UserError for a ``--pair A=B`` naming a detector that is not among
    ``names`` (the run's detectors, whether they succeeded or not): a typo,
    said before anything is computed or written."""
    names = list(names)
    for text in declared or []:
        a, b = parse_pair(text)
        unknown = [n for n in (a, b) if n not in names]
        if unknown:
            raise UserError('--pair {}: this run has no detector named {} (its detectors: {}); '
                            'name two of them'.format(text, ' or '.join(unknown),
                                                      ', '.join(names) or 'none'))


def _spec_parts(spec):
    """``'tf:dir,name=x'`` -> ``('tf', 'dir', {'name': 'x'})`` (no checks: the
    run checked it)."""
    head, *options = str(spec).split(',')
    kind, _, arg = head.partition(':')
    found = {}
    for option in options:
        key, _, value = option.partition('=')
        found[key.strip()] = value.strip()
    return kind.strip(), os.path.normpath(arg.strip()) if arg.strip() else '', found


def detector_kinds(meta):
    """``{name: (kind, arg)}`` of the run's own (non-variant) detectors: the
    i-th spec of ``args.detector`` belongs to the i-th detector meta.json lists
    that is not a variant; ``{}`` when the counts differ (an unusual run)."""
    specs = meta.args.get('detector') or list(DEFAULT_SPECS)
    natives = [entry for entry in meta.detectors if 'variant_of' not in (entry.info or {})]
    if len(specs) != len(natives):
        return {}
    found = {}
    for spec, entry in zip(specs, natives, strict=True):
        kind, arg, options = _spec_parts(spec)
        if options.get('name', entry.name) == entry.name:
            found[entry.name] = (kind, arg)
    return found


def describe(kind_a, arg_a, kind_b, arg_b, classes=()):
    """What detectors of kinds ``kind_a`` (ARG ``arg_a``) and ``kind_b`` compare,
    in words, either way round; ``classes``: the class names both detect (one
    is named: ``a `face` detector``); ``''`` for kinds that are not a port and
    its reference."""
    words = PORT_WORDS.get((kind_a, kind_b)) or PORT_WORDS.get((kind_b, kind_a))
    if words is None:
        return ''
    model = os.path.basename(arg_a or arg_b)
    model = ' `{}`'.format(model) if model else ''
    if len(classes) == 1:
        model += ', a `{}` detector'.format(classes[0])
    return words.format(model=model)


def _classes(entries, a, b):
    """The class names two detectors share when they name the same ones, else ()."""
    names = [tuple(getattr(entries.get(n), 'label_names', None) or ()) for n in (a, b)]
    return names[0] if names[0] == names[1] else ()


def _same_model(entry_a, entry_b, arg_a, arg_b):
    if arg_a == arg_b:
        return True
    if entry_a.weights_sha256 and entry_a.weights_sha256 == entry_b.weights_sha256:
        return True
    return str(entry_a.weights) == str(entry_b.weights)


def inferred(meta, names):
    """The pairs of :data:`PORTS` among ``names`` (detectors that ran), in run
    order: each port with the nearest reference kind running the same model."""
    kinds = detector_kinds(meta)
    entries = {entry.name: entry for entry in meta.detectors}
    order = [name for name in kinds if name in names]
    found, taken = [], set()
    for name in order:
        kind, arg = kinds[name]
        for reference in PORTS.get(kind, ()):
            match = [other for other in order if other != name and other not in taken and
                     kinds[other][0] == reference and
                     _same_model(entries[name], entries[other], arg, kinds[other][1])]
            if match:
                found.append(Pair(name, match[0], 'inferred', describe(
                    kind, arg, *kinds[match[0]], _classes(entries, name, match[0]))))
                taken.update((name, match[0]))
                break
    return found


def run_pairs(meta, names, declared=None):
    """The pairs of a run and the warnings about declared ones.

    Args:
        meta: :class:`compare.rundir.RunMeta`.
        names: detectors that ran (ok).
        declared: ``['A=B', ...]`` (None: meta.json's ``args.pair``, else inferred).

    Returns:
        ``(pairs, warnings)``: :class:`Pair` list (variants after their pair),
        and one line per declared pair that names a detector that did not run.
    """
    if declared is None:
        declared = meta.args.get('pair') or []
    names = list(names)
    kinds = detector_kinds(meta)
    entries = {entry.name: entry for entry in meta.detectors}
    warnings, pairs = [], []
    for text in declared:
        a, b = parse_pair(text)
        missing = [n for n in (a, b) if n not in names]
        if missing:
            warnings.append('--pair {}: no detector named {} ran (detectors: {})'.format(
                text, ' or '.join(missing), ', '.join(names)))
        else:
            pairs.append(Pair(a, b, 'declared', describe(
                *kinds[a], *kinds[b], _classes(entries, a, b))
                if a in kinds and b in kinds else ''))
    if not declared:
        pairs = inferred(meta, names)
    with_variants = []
    for pair in pairs:
        with_variants.append(pair)
        a, b = pair.a + VARIANT, pair.b + VARIANT
        if a in names and b in names:
            with_variants.append(Pair(a, b, 'variant', VARIANT_WORDS))
    return with_variants, warnings


# -- the verdict of one pair ----------------------------------------------------

#: What makes two detections the same detection in :func:`identical`.
_SAME = ['image', 'y_min', 'x_min', 'y_max', 'x_max', 'class', 'score']


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What two detectors of a pair did on the images both processed.

    Attributes:
        detections_a, detections_b: every detection each kept.
        identical: the two lists are equal, bit for bit (boxes, canonical
            classes, scores), image by image.
        at_thresh_a, at_thresh_b: detections with score >= the operating point.
        matched, only_a, only_b: the agreement counts at the operating point
            (:mod:`compare.score.agreement`).
        min_iou, max_score_diff, max_box_diff: over the matched pairs (NaN
            when none); ``max_box_diff`` in pixels, the largest coordinate
            difference.
        images: images both processed.
    """
    detections_a: int
    detections_b: int
    identical: bool
    at_thresh_a: int
    at_thresh_b: int
    matched: int
    only_a: int
    only_b: int
    min_iou: float
    max_score_diff: float
    max_box_diff: float
    images: int


def _rows(detections, name, images):
    mine = detections[(detections['detector'] == name) & detections['image'].isin(images)]
    return mine.sort_values(['image', 'rank'], kind='mergesort')[_SAME].reset_index(drop=True)


def identical(detections, name_a, name_b, images):
    """Whether A's and B's detections on ``images`` are equal bit for bit."""
    rows_a, rows_b = _rows(detections, name_a, images), _rows(detections, name_b, images)
    return len(rows_a) == len(rows_b) and bool((rows_a == rows_b).all(axis=None))


def _box_diff(detections, pairs, name_a, name_b):
    """The largest coordinate difference (px) over the matched pairs."""
    matched = pairs[pairs['status'] == 'matched']
    if matched.empty:
        return float('nan')
    boxes = ['y_min', 'x_min', 'y_max', 'x_max']
    keyed = detections.set_index(['detector', 'image', 'rank'])[boxes]
    a = keyed.loc[[(name_a, i, int(r)) for i, r in zip(matched['image'], matched['rank_a'],
                                                        strict=True)]].to_numpy(float)
    b = keyed.loc[[(name_b, i, int(r)) for i, r in zip(matched['image'], matched['rank_b'],
                                                        strict=True)]].to_numpy(float)
    return float(abs(a - b).max())


def verdict(run, tables, pair, score_thresh):
    """The :class:`Verdict` of ``pair`` from the run and its agreement tables."""
    summary, all_pairs = tables['agreement_summary'], tables['agreement_pairs']
    first, second = sorted((pair.a, pair.b))
    row = summary[(summary['detector_a'] == first) & (summary['detector_b'] == second)]
    if row.empty:
        raise ValueError('no agreement row for {} and {}'.format(first, second))
    row = row.iloc[0]
    flipped = first != pair.a
    images = (set(run.images.loc[run.images['detector'] == pair.a, 'image']) &
              set(run.images.loc[run.images['detector'] == pair.b, 'image']))
    dets = run.detections[run.detections['image'].isin(images)]
    counts = {name: dets[dets['detector'] == name] for name in (pair.a, pair.b)}
    mine = all_pairs[(all_pairs['detector_a'] == first) & (all_pairs['detector_b'] == second)]
    only_a, only_b = int(row['only_a']), int(row['only_b'])
    return Verdict(
        detections_a=len(counts[pair.a]), detections_b=len(counts[pair.b]),
        identical=identical(run.detections, pair.a, pair.b, images),
        at_thresh_a=int((counts[pair.a]['score'] >= score_thresh).sum()),
        at_thresh_b=int((counts[pair.b]['score'] >= score_thresh).sum()),
        matched=int(row['matched']), only_a=only_b if flipped else only_a,
        only_b=only_a if flipped else only_b, min_iou=float(row['min_iou']),
        max_score_diff=float(row['max_abs_score_diff']),
        max_box_diff=_box_diff(run.detections, mine, first, second), images=len(images))


def pairs_table(run, tables, pairs, score_thresh):
    """One row per pair: its names, how it was chosen, what it compares and its
    :class:`Verdict`."""
    rows = [dict(position=k, detector_a=pair.a, detector_b=pair.b, how=pair.how,
                 what=pair.what, **dataclasses.asdict(verdict(run, tables, pair, score_thresh)))
            for k, pair in enumerate(pairs, 1)]
    columns = ['position', 'detector_a', 'detector_b', 'how', 'what'] + [
        field.name for field in dataclasses.fields(Verdict)]
    return pd.DataFrame(rows, columns=columns)
