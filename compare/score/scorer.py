"""Score a run folder: every table, then summary.md, report.html, figures/.

:func:`score_run` reads only the run's saved files (:mod:`compare.rundir`),
so it can be re-run; every table is written through
:func:`compare.rundir.write_score_table` (sorted, fixed float format) so a
rerun diffs cleanly. The tables:

- ``detections``: one row per detection (:mod:`compare.score.inputs`);
- ``agreement_summary`` / ``agreement_per_class`` / ``agreement_per_image`` /
  ``agreement_pairs``: every pair of detectors (:mod:`compare.score.agreement`);
- ``speed``: percentiles of raw/timings.csv (:mod:`compare.score.speed`);
- ``map_summary`` / ``map_per_class``: when annotations are given or found
  (:mod:`compare.score.ap`), under the box convention of ``--box-convention``
  (:mod:`compare.score.conventions`), which ``map_conventions`` states per
  metric;
- ``classes``: each detector's (and the annotation's) spelling per canonical
  class (:mod:`compare.score.classes`);
- ``score_warnings``: everything skipped, clipped or assumed.

The images folder (for annotations found beside it, and the gallery) comes
from meta.json (:meth:`compare.rundir.RunMeta.images_dir`): first relative to
the run folder, then relative to the current directory. Paths shown in the
reports are relative to the current directory when inside it, so scoring
from the root of a clone gives the same text in any clone.
"""
import dataclasses
import itertools
import os

import pandas as pd

from compare import report, rundir
from compare.paths import display_path
from compare.score import conventions
from compare.score.agreement import PAIR_COLUMNS, SUMMARY_COLUMNS, counts, pair_summary
from compare.score.ap import map_tables
from compare.score.attach import attach
from compare.score.classes import mapping_table
from compare.score.ground_truth import annotation_format, find_annotations, load_annotations
from compare.score.inputs import read_run
from compare.score.speed import speed_table


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
    """
    run: object
    tables: dict
    curves: dict
    truths: dict
    annotations: object
    images_dir: str


def agreement_tables(run):
    """The four agreement tables for every pair of detectors that ran."""
    names = run.ok_detectors()
    pairs, summary = [], []
    for name_a, name_b in itertools.combinations(names, 2):
        images = [set(run.images.loc[run.images['detector'] == n, 'image']) for n in
                  (name_a, name_b)]
        frame, row = pair_summary(run.detections, name_a, name_b, run.label_names(name_a),
                                  run.label_names(name_b), images[0], images[1])
        pairs.append(frame)
        summary.append(row)
    pairs = (pd.concat(pairs, ignore_index=True) if pairs
             else pd.DataFrame(columns=list(PAIR_COLUMNS)))
    return {'agreement_summary': pd.DataFrame(summary, columns=list(SUMMARY_COLUMNS)),
            'agreement_per_class': counts(pairs, ['class']),
            'agreement_per_image': counts(pairs, ['image']),
            'agreement_pairs': pairs}


def ground_truth(run, annotations, images_dir, convention):
    """``(path or None, truths, vocabulary)``; annotation warnings go to run.warnings."""
    path = annotations
    if path is None and os.path.isdir(images_dir):
        path = find_annotations(images_dir)
    if path is None:
        run.warnings.append('no annotations given or found beside the images ({}): no mAP'
                            .format(display_path(images_dir)))
        return None, {}, ()
    truths, vocabulary = load_annotations(path, convention.voc_gt_shift)
    attached, warnings = attach(truths, run.sizes())
    run.warnings.extend(warnings)
    return path, attached, vocabulary


def class_table(run, vocabulary):
    """Each detector's (and the annotation's) spelling of each canonical class."""
    vocabularies = {name: run.label_names(name) for name in run.ok_detectors()}
    if vocabulary:
        vocabularies['annotations'] = vocabulary
    return pd.DataFrame(mapping_table(vocabularies),
                        columns=['canonical'] + list(vocabularies))


def score_run(run_dir, annotations=None, box_convention=None):
    """Score ``run_dir``; returns ``{table name: DataFrame}`` as written.

    Args:
        run_dir: a run folder (meta.json, raw/).
        annotations: VOC folder / XML or COCO JSON; None looks beside the
            images named in meta.json.
        box_convention: ``'chainercv'`` (None: the default) or ``'odapi'``
            (:mod:`compare.score.conventions`).
    """
    convention = conventions.get(box_convention)
    run = read_run(run_dir)
    images_dir = run.meta.images_dir(run_dir)
    tables = {'detections': run.detections}
    tables.update(agreement_tables(run))
    tables['speed'] = speed_table(run.timings, run.detectors)
    path, truths, vocabulary = ground_truth(run, annotations, images_dir, convention)
    curves = {}
    if path is not None:
        tables['map_per_class'], tables['map_summary'], curves = map_tables(
            run, truths, vocabulary, convention)
        tables['map_conventions'] = pd.DataFrame(
            conventions.table(convention, annotation_format(path)))
    tables['classes'] = class_table(run, vocabulary)
    tables['score_warnings'] = pd.DataFrame({'warning': run.warnings}, columns=['warning'])
    for name, frame in tables.items():
        tables[name] = rundir.write_score_table(run_dir, name, frame)
    report.write_reports(Scored(run, tables, curves, truths, path, images_dir))
    return tables
