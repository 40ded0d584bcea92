"""Score a run directory: tables, summary.md, report.html, figures/.

``python -m compare.score RUN_DIR [--annotations PATH]`` or
:func:`score_run`. Reads only the run's saved files (notes/compare_contract.md),
so it can be re-run; every table is written with
:func:`replicate.tables.write_table` (sorted, fixed float format) so a rerun
diffs cleanly. Files written under RUN_DIR:

- ``detections.csv/.md``: one row per detection (see :mod:`compare.score_inputs`).
- ``agreement_summary`` / ``agreement_per_class`` / ``agreement_per_image`` /
  ``agreement_pairs``: every pair of detectors (:mod:`compare.agreement`).
- ``speed``: percentiles of raw/timings.csv (:mod:`compare.score_speed`).
- ``map_summary`` / ``map_per_class``: when annotations are given or found
  (:mod:`compare.score_map`).
- ``classes``: each detector's (and the annotation's) spelling per canonical class.
- ``score_warnings``: everything skipped, clipped or assumed.
- ``summary.md``, ``report.html``, ``figures/*.png`` (:mod:`compare.report`).
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
from compare.score_inputs import read_run
from compare.score_map import map_tables
from compare.score_speed import speed_table
from replicate.tables import write_table

LOG = logging.getLogger('compare.score')

#: table name -> sort keys (every table is written as <run dir>/<name>.csv/.md).
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


def images_dir_of(meta):
    """The images folder the run read, from meta.json's CLI arguments, or None."""
    args, images = meta.get('args'), meta.get('images')
    if isinstance(args, dict) and isinstance(args.get('images'), str):
        return args['images']
    if isinstance(images, dict) and isinstance(images.get('folder'), str):
        return images['folder']
    return None


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
                            .format(images_dir))
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
    images_dir = images_dir_of(run.meta)
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
        tables[name] = write_table(frame, os.path.join(run_dir, name), SORT_KEYS[name])
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
