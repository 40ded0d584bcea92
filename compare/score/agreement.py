"""Agreement between two detectors on the same images.

Matching rule (documented choice): within one image and one CANONICAL class
(:mod:`compare.score.classes`), detections of A and B are paired greedily by IoU:
all pairs with ``IoU >= iou_thresh`` are sorted by IoU (highest first), then
by ``|score_a - score_b|`` (smallest first), then by A's and B's rank, and a
pair is taken when neither side is taken yet. Unlike greedy-by-A's-score the
rule is symmetric in A and B, and on identical inputs it pairs every detection
with its copy (IoU 1, score difference 0). IoU is
``chainercv.utils.bbox_iou`` on ``(y_min, x_min, y_max, x_max)`` boxes, with
no +1 pixel convention.

Only images both detectors processed and classes both can name are compared;
detections of classes the other cannot name are counted as ``unshared``.
"""
import numpy as np
import pandas as pd
from chainercv.utils import bbox_iou

from compare.detections import BOX_KEYS
from compare.score.classes import shared_classes

#: Default IoU a pair needs to count as the same object.
IOU_THRESH = 0.5
PAIR_COLUMNS = ('detector_a', 'detector_b', 'image', 'class', 'status', 'rank_a', 'rank_b',
                'iou', 'score_a', 'score_b', 'score_diff')
SUMMARY_COLUMNS = ('detector_a', 'detector_b', 'images', 'images_only_a', 'images_only_b',
                   'shared_classes', 'iou_thresh', 'matched', 'only_a', 'only_b', 'unshared_a',
                   'unshared_b', 'agreement', 'mean_iou', 'min_iou', 'max_abs_score_diff')


def greedy_match(boxes_a, scores_a, boxes_b, scores_b, iou_thresh=IOU_THRESH):
    """Pairs ``(i, j, iou)`` by the rule of the module docstring.

    Args:
        boxes_a: ``(Ra, 4)`` float, ``(y_min, x_min, y_max, x_max)``;
            ``scores_a`` ``(Ra,)``; the same for B. Row order = rank order.
        iou_thresh: the smallest IoU of a pair.

    Returns:
        list of ``(i, j, iou)`` with int ``i`` into A, ``j`` into B.
    """
    if len(boxes_a) == 0 or len(boxes_b) == 0:
        return []
    iou = bbox_iou(np.asarray(boxes_a, np.float64), np.asarray(boxes_b, np.float64))
    ii, jj = np.nonzero(iou >= iou_thresh)
    diff = np.abs(np.asarray(scores_a)[ii] - np.asarray(scores_b)[jj])
    # np.lexsort sorts by the LAST key first
    order = np.lexsort((jj, ii, diff, -iou[ii, jj]))
    taken_a, taken_b, pairs = set(), set(), []
    for k in order:
        i, j = int(ii[k]), int(jj[k])
        if i not in taken_a and j not in taken_b:
            taken_a.add(i)
            taken_b.add(j)
            pairs.append((i, j, float(iou[i, j])))
    return pairs


def compare_pair(detections, name_a, name_b, classes, images, iou_thresh=IOU_THRESH):
    """One row per matched pair and per unmatched detection of A or B.

    Args:
        detections: the detections table (:mod:`compare.score.inputs`).
        name_a, name_b: detector names.
        classes: canonical classes both can name.
        images: images both processed.

    Returns:
        DataFrame with :data:`PAIR_COLUMNS`; ``status`` is ``matched``,
        ``only_a`` or ``only_b``; ``score_diff = score_b - score_a``.
    """
    keep = detections['image'].isin(set(images)) & detections['class'].isin(set(classes))
    groups_a = dict(tuple(detections[keep & (detections['detector'] == name_a)]
                          .groupby(['image', 'class'], sort=True)))
    groups_b = dict(tuple(detections[keep & (detections['detector'] == name_b)]
                          .groupby(['image', 'class'], sort=True)))
    rows = []
    for key in sorted(set(groups_a) | set(groups_b)):
        rows += _group_rows(groups_a.get(key), groups_b.get(key), key, iou_thresh)
    frame = pd.DataFrame(rows, columns=list(PAIR_COLUMNS[2:]))
    frame.insert(0, 'detector_b', name_b)
    frame.insert(0, 'detector_a', name_a)
    for column in ('rank_a', 'rank_b'):
        frame[column] = frame[column].astype('Int64')
    return frame


def _group_rows(group_a, group_b, key, iou_thresh):
    empty = pd.DataFrame(columns=list(BOX_KEYS) + ['rank', 'score'])
    a = empty if group_a is None else group_a
    b = empty if group_b is None else group_b
    boxes_a, boxes_b = a[list(BOX_KEYS)].to_numpy(float), b[list(BOX_KEYS)].to_numpy(float)
    sa, sb = a['score'].to_numpy(float), b['score'].to_numpy(float)
    ra, rb = a['rank'].to_numpy(), b['rank'].to_numpy()
    pairs = greedy_match(boxes_a, sa, boxes_b, sb, iou_thresh)
    rows = [list(key) + ['matched', ra[i], rb[j], iou, sa[i], sb[j], sb[j] - sa[i]]
            for i, j, iou in pairs]
    nan = float('nan')
    done_a, done_b = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
    rows += [list(key) + ['only_a', ra[i], None, nan, sa[i], nan, nan]
             for i in range(len(a)) if i not in done_a]
    rows += [list(key) + ['only_b', None, rb[j], nan, nan, sb[j], nan]
             for j in range(len(b)) if j not in done_b]
    return rows


def counts(pairs, by):
    """Matched / only-in-A / only-in-B counts, mean IoU, max |score diff|.

    Args:
        pairs: rows of :func:`compare_pair` (several pairs of detectors allowed).
        by: extra grouping columns besides the detector pair.
    """
    keys = ['detector_a', 'detector_b'] + list(by)
    frame = pairs.assign(matched=pairs['status'] == 'matched',
                         only_a=pairs['status'] == 'only_a',
                         only_b=pairs['status'] == 'only_b',
                         abs_score_diff=pairs['score_diff'].abs())
    grouped = frame.groupby(keys, sort=True)
    result = grouped[['matched', 'only_a', 'only_b']].sum().astype(int)
    result['mean_iou'] = grouped['iou'].mean()
    result['min_iou'] = grouped['iou'].min()
    result['max_abs_score_diff'] = grouped['abs_score_diff'].max()
    return result.reset_index()


def pair_summary(detections, name_a, name_b, vocab_a, vocab_b, images_a, images_b,
                 iou_thresh=IOU_THRESH):
    """``(pairs, summary row)`` for detectors A and B.

    Args:
        vocab_a, vocab_b: the detectors' class names (own spelling).
        images_a, images_b: images each processed.
    """
    classes = list(shared_classes(vocab_a, vocab_b))
    images = sorted(set(images_a) & set(images_b))
    pairs = compare_pair(detections, name_a, name_b, classes, images, iou_thresh)
    in_images = detections['image'].isin(set(images))
    unshared = in_images & ~detections['class'].isin(set(classes))
    row = {'detector_a': name_a, 'detector_b': name_b, 'images': len(images),
           'images_only_a': len(set(images_a) - set(images_b)),
           'images_only_b': len(set(images_b) - set(images_a)),
           'shared_classes': len(classes), 'iou_thresh': float(iou_thresh)}
    status = pairs['status']
    row.update(matched=int((status == 'matched').sum()), only_a=int((status == 'only_a').sum()),
               only_b=int((status == 'only_b').sum()))
    row['unshared_a'] = int((unshared & (detections['detector'] == name_a)).sum())
    row['unshared_b'] = int((unshared & (detections['detector'] == name_b)).sum())
    total = row['matched'] + row['only_a'] + row['only_b']
    row['agreement'] = row['matched'] / total if total else float('nan')
    matched = pairs[status == 'matched']
    row['mean_iou'] = float(matched['iou'].mean()) if len(matched) else float('nan')
    row['min_iou'] = float(matched['iou'].min()) if len(matched) else float('nan')
    row['max_abs_score_diff'] = (float(matched['score_diff'].abs().max()) if len(matched)
                                 else float('nan'))
    return pairs, row
