"""The Chainer SSDs' post-processing again, from kept network outputs: no network runs.

With ``--keep-raw`` a run keeps each Chainer SSD's outputs per image
(``raw/netout/``, :mod:`compare.rundir`). From them this module

- re-decodes a detector with another NMS IoU threshold and/or score
  threshold (``python -m compare.score RUN --nms-thresh N
  --decode-score-thresh S``), replacing its detections in every table; a
  value not given keeps the run's own (the preset's);
- decodes a small grid (:data:`GRID_NMS` x :data:`GRID_SCORE`) and reports,
  per setting, the detections per image and, with annotations, the mAP (VOC07
  11-point and VOC area, ChainerCV's evaluator): how the two thresholds the
  SSD paper leaves to the user set the detector's sensitivity.

Decoding is :class:`replicate.ssd.coder.MultiboxCoder` with SSD300's default
boxes (equal, bit for bit, to ChainerCV's ``MultiboxCoder.decode``, which both
adapters call), then the boxes are scaled from the network's input square
to the image and clipped, as the adapter does
(:mod:`compare.adapters.chainer_ssd`).
"""
import dataclasses

import numpy as np
import pandas as pd

from compare import rundir
from compare.detections import Detections
from compare.score.ap import classes_of
from compare.score.classes import canonical_set
from compare.score.conventions import CONVENTIONS, DEFAULT
from compare.score.evaluators import build_eval_set, voc_ap
from compare.score.inputs import detection_frame, detection_rows
from replicate.ssd.ssd300 import ssd300_coder

GRID_NMS = (0.3, 0.45, 0.6)
GRID_SCORE = (0.01, 0.3, 0.6)
GRID_COLUMNS = ('detector', 'nms_thresh', 'score_thresh', 'images', 'detections',
                'detections_per_image', 'map_voc07', 'map_voc', 'native')


@dataclasses.dataclass
class Grid:
    """The decode grid: its table, and the detectors it covers."""
    table: pd.DataFrame
    detectors: list


def kept(run):
    """``{detector: {image: (locs, confs, size, insize)}}`` for every detector
    with kept outputs for every image it processed (others are left out,
    with a warning when some images were kept and some not)."""
    found = {}
    for name in run.ok_detectors():
        images = list(run.images.loc[run.images['detector'] == name, 'image'])
        outputs = {image: rundir.read_netout(run.run_dir, name, image) for image in images}
        missing = [image for image, value in outputs.items() if value is None]
        if len(missing) == len(images):
            continue
        if missing:
            run.warnings.append('{}: network outputs kept for {} of {} images only; not '
                                're-decoded'.format(name, len(images) - len(missing),
                                                    len(images)))
            continue
        found[name] = outputs
    return found


def decode(coder, output, nms_thresh, score_thresh, label_names):
    """:class:`compare.detections.Detections` of one kept image."""
    locs, confs, (height, width), insize = output
    box, label, score = coder.decode(locs, confs, nms_thresh, score_thresh)
    # (R, 4) yxyx in the insize x insize input -> yxyx in the original (H, W)
    scale = np.array([height, width, height, width], np.float32) / insize
    return Detections(box * scale, label, [label_names[i] for i in label],
                      score).clipped(height, width)


def _native(entry):
    return entry.info.get('nms_thresh'), entry.info.get('score_thresh')


def decode_all(run, outputs, detector, nms_thresh, score_thresh, coder):
    """Rows of the detections table for every kept image of ``detector``."""
    names = run.label_names(detector)
    rows = []
    for image, output in sorted(outputs.items()):
        rows += detection_rows(detector, image,
                               decode(coder, output, nms_thresh, score_thresh, names))
    return rows


def apply(run, nms_thresh=None, score_thresh=None, log=None):
    """Replace the detections of every detector with kept outputs by their
    re-decoding with ``nms_thresh`` / ``score_thresh`` (None: the run's own).
    Does nothing when both are None; records what it did in ``run.warnings``
    and ``run.redecoded``, and says it in one line per detector to ``log``."""
    if nms_thresh is None and score_thresh is None:
        return
    log = log or (lambda line: None)
    outputs = kept(run)
    if not outputs:
        run.warnings.append('--nms-thresh/--decode-score-thresh given, but no detector has '
                            'kept network outputs (run with --keep-raw): nothing re-decoded')
        log('WARNING: ' + run.warnings[-1])
        return
    coder = ssd300_coder()
    frames = [run.detections[~run.detections['detector'].isin(set(outputs))]]
    for name in sorted(outputs):
        native_nms, native_score = _native(run.detectors[name])
        nms = native_nms if nms_thresh is None else nms_thresh
        score = native_score if score_thresh is None else score_thresh
        frames.append(detection_frame(decode_all(run, outputs[name], name, nms, score, coder)))
        run.redecoded[name] = (nms, score)
        run.warnings.append('{}: re-decoded from kept network outputs with NMS IoU {} and score '
                            'threshold {} (the run used {} and {})'.format(
                                name, nms, score, native_nms, native_score))
        log(run.warnings[-1])
    merged = pd.concat(frames, ignore_index=True)
    run.detections = merged.sort_values(['detector', 'image', 'rank'],
                                        kind='mergesort').reset_index(drop=True)


def grid(run, truths, vocabulary, convention=CONVENTIONS[DEFAULT], nms_values=GRID_NMS,
         score_values=GRID_SCORE):
    """The decode grid (:data:`GRID_COLUMNS`), or None without kept outputs."""
    outputs = kept(run)
    if not outputs:
        return None
    coder, rows = ssd300_coder(), []
    classes = classes_of(truths, vocabulary) if truths else []
    for name in sorted(outputs):
        native = _native(run.detectors[name])
        evaluated = sorted(set(classes) & canonical_set(run.label_names(name)))
        for nms in nms_values:
            for score in score_values:
                frame = detection_frame(decode_all(run, outputs[name], name, nms, score, coder))
                row = {'detector': name, 'nms_thresh': nms, 'score_thresh': score,
                       'images': len(outputs[name]), 'detections': len(frame),
                       'detections_per_image': len(frame) / len(outputs[name]),
                       'map_voc07': np.nan, 'map_voc': np.nan,
                       'native': (nms, score) == native}
                if truths:
                    mine = {image: truths[image] for image in outputs[name] if image in truths}
                    data = build_eval_set(frame[frame['image'].isin(set(mine))], mine,
                                          evaluated, run.sizes())
                    row['map_voc07'] = voc_ap(data, True, convention)[1]
                    row['map_voc'] = voc_ap(data, False, convention)[1]
                rows.append(row)
    return Grid(pd.DataFrame(rows, columns=list(GRID_COLUMNS)), sorted(outputs))

