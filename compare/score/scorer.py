"""Score a run folder: every table (summary.md, report.html and figures/ are
:mod:`compare.report`'s, written after it by :func:`compare.runner.scoring.score_run`).

:func:`score_tables` reads only the run's saved files (:mod:`compare.rundir`),
so it can be re-run; every table is written through
:func:`compare.rundir.write_score_table` (sorted, fixed float format) so a
rerun diffs cleanly. The tables:

- ``detections``: one row per detection (:mod:`compare.score.inputs`), with
  its verdict against the ground truth (:mod:`compare.score.matching`);
- ``agreement_summary`` / ``agreement_per_class`` / ``agreement_per_image`` /
  ``agreement_pairs``: every pair of detectors at the operating point
  (:mod:`compare.score.agreement`);
- ``speed``: percentiles of raw/timings.csv (:mod:`compare.score.speed`);
- ``map_summary`` / ``map_per_class`` / ``coco_summary``: when annotations are
  given or found (:mod:`compare.score.ap`), over every detection kept, under
  the box convention of ``--box-convention`` (:mod:`compare.score.conventions`),
  which ``map_conventions`` states per metric; ``metric_names``: the OD API and
  pycocotools names of their columns (:mod:`compare.score.metric_names`);
  ``tide``: TIDE's AP and dAP per error type (:mod:`compare.score.tide`);
- ``diagnosis`` / ``diagnosis_per_image`` / ``sweep`` / ``confusion``: counts
  at the operating point and over a range of thresholds
  (:mod:`compare.score.diagnosis`);
- ``decode_grid``: the Chainer SSDs re-decoded from kept network outputs
  (:mod:`compare.score.redecode`);
- ``headline``: one line per detector (:mod:`compare.score.headline`);
- ``pairs``: the pairs the run is about, declared or inferred, and the
  verdict for each (:mod:`compare.score.pairs`); ``findings``: the headline
  in sentences (:mod:`compare.score.findings`);
- ``classes``: each detector's (and the annotation's) spelling per canonical
  class (:mod:`compare.score.classes`);
- ``score_warnings``: everything skipped, clipped or assumed.

Every table that can be written is written: annotations that cannot be used
(found beside the images but broken, or holding nothing a detector can be
scored on) leave out the mAP tables and say why, on the log and in
``score_warnings``; annotations given explicitly that cannot be read are
raised as the error AFTER the other tables are written. ``--annotations none``
(:data:`compare.score.ground_truth.NO_ANNOTATIONS`) looks nothing up.

The images folder (for annotations found beside it, and the gallery) comes
from meta.json (:meth:`compare.rundir.RunMeta.images_dir`): first relative to
the run folder, then relative to the current directory. Paths shown in the
reports are relative to the current directory when inside it, so scoring
from the root of a clone gives the same text in any clone.
"""
import dataclasses
import itertools
import logging
import os

import pandas as pd

from compare import rundir
from compare.errors import UserError
from compare.paths import display_path
from compare.score import (
    coco_eval,
    conventions,
    diagnosis,
    findings,
    headline,
    metric_names,
    pairs,
    redecode,
)
from compare.score.agreement import PAIR_COLUMNS, SUMMARY_COLUMNS, counts, pair_summary
from compare.score.ap import classes_of, map_tables
from compare.score.attach import attach
from compare.score.classes import mapping_table
from compare.score.ground_truth import (
    NO_ANNOTATIONS,
    annotation_format,
    find_annotations,
    load_annotations,
)
from compare.score.inputs import read_run
from compare.score.matching import match_table
from compare.score.operating_point import SCORE_THRESH
from compare.score.speed import speed_table
from compare.score.tide import tide_table

LOG = logging.getLogger('compare.score')



@dataclasses.dataclass
class Scored:
    """What the report is made from.

    Attributes:
        run: :class:`compare.score.inputs.Run`.
        tables: ``{name: DataFrame}`` as written.
        curves: ``{detector: (classes, prec, rec)}`` VOC PR curves (mAP only).
        truths: ``{image: GroundTruth}`` (empty without annotations).
        annotations: the annotation path used, or None.
        images_dir: the images folder from meta.json.
        score_thresh: the operating point.
        grid: :class:`compare.score.redecode.Grid` or None.
        not_scored: one line per thing that could not be scored.
        error: the UserError of annotations given explicitly that cannot be
            read, or None (:func:`finish` raises it).
        findings: the headline, :class:`compare.score.findings.Finding` list.
    """
    run: object
    tables: dict
    curves: dict
    truths: dict
    annotations: object
    images_dir: str
    score_thresh: float = SCORE_THRESH
    grid: object = None
    not_scored: list = dataclasses.field(default_factory=list)
    error: object = None
    findings: list = dataclasses.field(default_factory=list)


def agreement_tables(run, score_thresh):
    """The four agreement tables for every pair of detectors that ran, on
    their detections with ``score >= score_thresh``."""
    names = run.ok_detectors()
    kept = run.detections[run.detections['score'] >= score_thresh]
    pairs, summary = [], []
    for name_a, name_b in itertools.combinations(names, 2):
        images = [set(run.images.loc[run.images['detector'] == n, 'image']) for n in
                  (name_a, name_b)]
        frame, row = pair_summary(kept, name_a, name_b, run.label_names(name_a),
                                  run.label_names(name_b), images[0], images[1])
        pairs.append(frame)
        summary.append(dict(row, score_thresh=float(score_thresh)))
    pairs = (pd.concat(pairs, ignore_index=True) if pairs
             else pd.DataFrame(columns=list(PAIR_COLUMNS)))
    return {'agreement_summary': pd.DataFrame(summary, columns=list(SUMMARY_COLUMNS) +
                                              ['score_thresh']),
            'agreement_per_class': counts(pairs, ['class']),
            'agreement_per_image': counts(pairs, ['image']),
            'agreement_pairs': pairs}


def ground_truth(run, annotations, images_dir, convention, not_scored):
    """``(path or None, truths, vocabulary, error)``; annotation warnings go to
    run.warnings, what cannot be scored to ``not_scored``; ``error`` is the
    UserError of annotations given explicitly that cannot be read (else None)."""
    if annotations == NO_ANNOTATIONS:
        run.warnings.append('annotations turned off (--annotations none): no mAP')
        return None, {}, (), None
    path = annotations
    if path is None and os.path.isdir(images_dir):
        path = find_annotations(images_dir)
    if path is None:
        run.warnings.append('no annotations given or found beside the images ({}): no mAP'
                            .format(display_path(images_dir)))
        return None, {}, (), None
    try:
        truths, vocabulary = load_annotations(path, convention.voc_gt_shift)
    except UserError as exc:
        if annotations is not None:
            run.warnings.append('not scored: mAP: {}'.format(exc))
            return None, {}, (), exc
        not_scored.append('mAP: the annotations found beside the images cannot be used: {}; '
                          'fix them, or pass --annotations none'.format(exc))
        return None, {}, (), None
    attached, warnings = attach(truths, run.sizes())
    run.warnings.extend(warnings)
    return path, attached, vocabulary, None


def class_table(run, vocabulary):
    """Each detector's (and the annotation's) spelling of each canonical class."""
    vocabularies = {name: run.label_names(name) for name in run.ok_detectors()}
    if vocabulary:
        vocabularies['annotations'] = vocabulary
    return pd.DataFrame(mapping_table(vocabularies),
                        columns=['canonical'] + list(vocabularies))


def diagnosis_tables(run, truths, classes, score_thresh):
    """``diagnosis``, ``diagnosis_per_image``, ``sweep``, ``confusion`` and the
    :class:`compare.score.diagnosis.Diagnosis` of each detector."""
    found = {name: [] for name in ('diagnosis', 'diagnosis_per_image', 'sweep', 'confusion')}
    diagnoses = {}
    for name in run.ok_detectors():
        processed = set(run.images.loc[run.images['detector'] == name, 'image'])
        images = processed & set(truths)
        rows = run.detections[run.detections['detector'] == name]
        gt_rows = diagnosis.positives(truths, images, run.label_names(name), classes)
        diagnoses[name] = one = diagnosis.Diagnosis(name, rows, gt_rows, images)
        found['diagnosis'].append(one.summary(score_thresh))
        found['diagnosis_per_image'] += one.per_image(score_thresh)
        found['sweep'] += one.sweep()
        found['confusion'] += one.confusion(score_thresh)
    columns = {'diagnosis': diagnosis.SUMMARY_COLUMNS,
               'diagnosis_per_image': diagnosis.IMAGE_COLUMNS,
               'sweep': diagnosis.SWEEP_COLUMNS,
               'confusion': ('detector', 'truth', 'predicted', 'count')}
    return {name: pd.DataFrame(rows, columns=list(columns[name]))
            for name, rows in found.items()}, diagnoses


def check_thresh(value, option):
    """``value`` if it is a number in [0, 1], else UserError naming ``option``."""
    if value is None:
        return None
    if not 0 <= value <= 1:
        raise UserError('{} must be between 0 and 1, got {}'.format(option, value))
    return float(value)


def score_tables(run_dir, annotations=None, box_convention=None, score_thresh=SCORE_THRESH,
                 nms_thresh=None, decode_score_thresh=None, log=None, pair=None, iou=None,
                 coco_evaluator=None):
    """Score ``run_dir``: write every table; returns the :class:`Scored` the
    report is made from (the tables as written in ``tables``). What could not
    be scored, and an error of ``annotations``, wait in it for :func:`finish`.

    Args:
        run_dir: a run folder (meta.json, raw/).
        annotations: VOC folder / XML or COCO JSON; None looks beside the
            images named in meta.json; ``'none'`` turns annotations off.
        box_convention: ``'chainercv'`` (None: the default) or ``'odapi'``
            (:mod:`compare.score.conventions`).
        score_thresh: the operating point (:data:`SCORE_THRESH`).
        nms_thresh, decode_score_thresh: re-decode the Chainer SSDs from their
            kept network outputs with these (None: the run's own), before
            scoring (:mod:`compare.score.redecode`).
        log: called with one line per thing that could not be scored.
        pair: ``['A=B', ...]``, the pairs the headline speaks of (None:
            meta.json's ``args.pair``, else inferred: :mod:`compare.score.pairs`).
        iou: the true-positive IoU of the VOC metrics, the verdicts, TIDE and
            ``ap_coco_iou`` (None: 0.5; :mod:`compare.score.conventions`).
        coco_evaluator: ``'pycocotools'`` (None: the default) or
            ``'faster-coco-eval'`` (:mod:`compare.score.coco_eval`).

    Raises:
        UserError: the run folder cannot be read (``annotations`` given
            explicitly that cannot be read are raised by :func:`finish`).
    """
    convention = conventions.get(box_convention, iou)
    coco_evaluator = coco_eval.check(coco_evaluator)
    score_thresh = check_thresh(score_thresh, '--score-thresh')
    nms_thresh = check_thresh(nms_thresh, '--nms-thresh')
    decode_score_thresh = check_thresh(decode_score_thresh, '--decode-score-thresh')
    run = read_run(run_dir)
    images_dir = run.meta.images_dir(run_dir)
    redecode.apply(run, nms_thresh, decode_score_thresh, log=log)
    not_scored = []
    path, truths, vocabulary, error = ground_truth(run, annotations, images_dir, convention,
                                                   not_scored)
    classes = classes_of(truths, vocabulary) if path is not None else []
    if path is not None:
        vocabularies = {name: run.label_names(name) for name in run.detectors}
        run.detections = pd.concat([run.detections, match_table(
            run.detections, truths, vocabularies, classes, convention)], axis=1)
    tables = {'detections': run.detections}
    tables.update(agreement_tables(run, score_thresh))
    tables['speed'] = speed_table(run.timings, run.detectors, run.benchmarks)
    curves = {}
    if path is not None:
        (tables['map_per_class'], tables['map_summary'], curves,
         tables['coco_summary']) = map_tables(run, truths, vocabulary, convention,
                                              coco_evaluator)
        tables['map_conventions'] = pd.DataFrame(conventions.table(
            convention, annotation_format(path), conventions.areas_note(truths),
            coco_evaluator))
        tables['metric_names'] = metric_names.table()
        tables['tide'] = tide_table(run, truths, classes, convention)
        not_scored += unscored_detectors(tables['map_summary'])
        found, _ = diagnosis_tables(run, truths, classes, score_thresh)
        tables.update(found)
    run.warnings.extend('not scored: ' + line for line in not_scored)
    grid = redecode.grid(run, truths, vocabulary, convention)
    if grid is not None:
        tables['decode_grid'] = grid.table
    tables['classes'] = class_table(run, vocabulary)
    tables['headline'] = headline.headline_table(run, tables, score_thresh)
    found_pairs, pair_warnings = pairs.run_pairs(run.meta, run.ok_detectors(), pair)
    not_scored += pair_warnings
    run.warnings.extend('not scored: ' + line for line in pair_warnings)
    tables['pairs'] = pairs.pairs_table(run, tables, found_pairs, score_thresh)
    said = findings.findings(run, tables, tables['pairs'], score_thresh,
                             display_path(path) if path is not None else None,
                             iou=convention.iou)
    tables['findings'] = findings.findings_table(said)
    tables['score_warnings'] = pd.DataFrame({'warning': run.warnings}, columns=['warning'])
    rundir.remove_score_tables(run_dir, keep=tables)
    for name, frame in tables.items():
        tables[name] = rundir.write_score_table(run_dir, name, frame)
    return Scored(run, tables, curves, truths, path, images_dir, score_thresh, grid, not_scored,
                  error, said)


def finish(scored, log=None):
    """What :func:`score_tables` deferred, once the reports are written too: one
    line per thing that could not be scored, then the error of annotations
    given explicitly that cannot be read.

    Raises:
        UserError: that error, saying the other tables were written.
    """
    for line in scored.not_scored:
        (log or LOG.warning)('not scored: ' + line)
    if scored.error is not None:
        raise UserError('{} (the other tables were written to {})'.format(
            scored.error, scored.run.run_dir))


def unscored_detectors(summary):
    """Lines for the detectors whose mAP could not be computed: no annotation
    class they can name has ground truth on the images they processed."""
    empty = summary[summary['map_voc07'].isna()]
    return ['mAP of {}: none of the annotation classes it can name has an object on the '
            'images it processed (negative images only, or classes it cannot name)'.format(name)
            for name in empty['detector']]
