"""Score a run directory: tables, summary.md, report.html, figures/.

``python -m compare.score RUN_DIR [--annotations PATH]`` or
:func:`score_run`. Reads only the run's saved files (notes/compare_contract.md),
so it can be re-run; every table is written with
:func:`replicate.tables.write_table` (sorted, fixed float format) so a rerun
diffs cleanly. Files written under RUN_DIR:

- ``detections.csv``: one row per detection (see :mod:`compare.score_inputs`).
- ``agreement_summary`` / ``agreement_per_class`` / ``agreement_per_image`` /
  ``agreement_pairs``: every pair of detectors (:mod:`compare.agreement`);
  ``agreement_pairs.csv`` has one row per detection of a pair.
- The two per-detection tables (:data:`CSV_ONLY`) are written as CSV only
  (hundreds of KB of Markdown nobody reads); every other table as ``.csv``
  and ``.md``.
- ``speed``: percentiles of raw/timings.csv (:mod:`compare.score_speed`).
- ``map_summary`` / ``map_per_class``: when annotations are given or found
  (:mod:`compare.score_map`).
- ``classes``: each detector's (and the annotation's) spelling per canonical class.
- ``score_warnings``: everything skipped, clipped or assumed.
- ``summary.md``, ``report.html``, ``figures/*.png`` (:mod:`compare.report`).

The images folder (for annotations found beside it, and the gallery) comes
from meta.json via :func:`compare.paths.resolve_images_dir`: first relative to
RUN_DIR (``images.folder_from_run``), then relative to the current directory.
Paths shown in the reports are relative to the current directory when inside
it, so scoring from the root of a clone gives the same text in any clone.
"""
import argparse
import dataclasses
import itertools
import logging
import os
import sys

import pandas as pd

from compare import report
from compare.agreement import PAIR_COLUMNS, SUMMARY_COLUMNS, counts, pair_summary
from compare.annotations import find_annotations, load_annotations
from compare.annotations_match import attach
from compare.classmap import mapping_table
from compare.errors import EXIT_USER_ERROR, UserError
from compare.paths import display_path, resolve_images_dir
from compare.score_inputs import read_run
from compare.score_map import map_tables
from compare.score_speed import speed_table
from replicate.tables import FLOAT_FORMAT, sorted_frame, write_table

LOG = logging.getLogger('compare.score')

#: table name -> sort keys (every table is written as <run dir>/<name>.csv, and .md
#: unless in :data:`CSV_ONLY`).
SORT_KEYS = {
    'detections': ('detector', 'image', 'rank'),
    'agreement_summary': ('detector_a', 'detector_b'),
    'agreement_per_class': ('detector_a', 'detector_b', 'class'),
    'agreement_per_image': ('detector_a', 'detector_b', 'image'),
    'agreement_pairs': ('detector_a', 'detector_b', 'image', 'class', 'status', 'rank_a',
                        'rank_b'),
    'speed': ('detector', 'batch_size'),
    'map_summary': ('detector',),
    'map_per_class': ('detector', 'class'),
    'classes': ('canonical',),
    'score_warnings': (),
}
#: Per-detection tables: CSV only (a stale .md of an older scoring is removed).
CSV_ONLY = ('detections', 'agreement_pairs')


@dataclasses.dataclass
class Scored:
    """What the report is made from.

    Attributes:
        run: :class:`compare.score_inputs.Run`.
        tables: ``{name: DataFrame}`` as written.
        curves: ``{detector: (classes, prec, rec)}`` VOC PR curves (mAP only).
        truths: ``{image: GroundTruth}`` (empty without annotations).
        annotations: the annotation path used, or None.
        images_dir: the images folder from meta.json, or None.
    """
    run: object
    tables: dict
    curves: dict
    truths: dict
    annotations: object
    images_dir: object


def write_scored_table(frame, run_dir, name):
    """Write table ``name`` under ``run_dir`` sorted by :data:`SORT_KEYS`; returns it sorted."""
    stem = os.path.join(run_dir, name)
    if name not in CSV_ONLY:
        return write_table(frame, stem, SORT_KEYS[name])
    frame = sorted_frame(frame, SORT_KEYS[name])
    frame.to_csv(stem + '.csv', index=False, float_format=FLOAT_FORMAT, lineterminator='\n')
    if os.path.exists(stem + '.md'):
        os.remove(stem + '.md')
    return frame


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


def ground_truth(run, annotations, images_dir):
    """``(path or None, truths, vocabulary)``; annotation warnings go to run.warnings."""
    path = annotations
    if path is None and images_dir is not None and os.path.isdir(images_dir):
        path = find_annotations(images_dir)
    if path is None:
        run.warnings.append('no annotations given or found beside the images ({}): no mAP'
                            .format(display_path(images_dir)))
        return None, {}, ()
    truths, vocabulary = load_annotations(path)
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


def score_run(run_dir, annotations=None):
    """Score ``run_dir``; returns ``{table name: DataFrame}`` as written.

    Args:
        run_dir: a run directory (raw/, meta.json).
        annotations: VOC folder / XML or COCO JSON; None looks beside the
            images named in meta.json.
    """
    run = read_run(run_dir)
    images_dir = resolve_images_dir(run.meta, run_dir)
    tables = {'detections': run.detections}
    tables.update(agreement_tables(run))
    tables['speed'] = speed_table(run.timings, run.detectors)
    path, truths, vocabulary = ground_truth(run, annotations, images_dir)
    curves = {}
    if path is not None:
        tables['map_per_class'], tables['map_summary'], curves = map_tables(run, truths,
                                                                            vocabulary)
    tables['classes'] = class_table(run, vocabulary)
    tables['score_warnings'] = pd.DataFrame({'warning': run.warnings}, columns=['warning'])
    for name, frame in tables.items():
        tables[name] = write_scored_table(frame, run_dir, name)
    report.write_reports(Scored(run, tables, curves, truths, path, images_dir))
    return tables


def main(argv=None):
    """CLI: ``python -m compare.score RUN_DIR [--annotations PATH]``."""
    parser = argparse.ArgumentParser(prog='python -m compare.score', description=__doc__
                                     .split('\n')[0])
    parser.add_argument('run_dir', help='run directory written by compare/run.py')
    parser.add_argument('--annotations', default=None,
                        help='VOC Annotations folder / XML, or COCO JSON (default: look '
                             'beside the images)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format='%(levelname)s: %(message)s')
    try:
        tables = score_run(args.run_dir, args.annotations)
    except UserError as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return EXIT_USER_ERROR
    print('scored {}: {} tables, summary.md, report.html'.format(args.run_dir, len(tables)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
