"""Scoring, then the reports: what every command that scores a run folder does.

:func:`score_run` writes the tables (:func:`compare.score.scorer.score_tables`),
then summary.md, report.html and figures/ (:func:`compare.report.write_reports`),
then says what could not be scored (:func:`compare.score.scorer.finish`). The
run (:mod:`compare.runner.cli`), the merge (:mod:`compare.shards.merge`) and
the scoring command call it; :func:`main` is that command, ``python -m
compare.score RUN_DIR [options]`` (:mod:`compare.score.__main__`): score a
run folder again. :func:`add_scoring_options` are the options all three take.
"""
import argparse
import os
import sys

from compare import rundir
from compare.errors import EXIT_OK, EXIT_USER_ERROR, UserError, describe_os_error
from compare.rundir.claim import check_links
from compare.rundir.lock import RunLock
from compare.score.coco_eval import DEFAULT as COCO_DEFAULT
from compare.score.coco_eval import EVALUATORS
from compare.score.coco_eval import HELP as COCO_HELP
from compare.score.conventions import CONVENTIONS, DEFAULT, HELP, IOU_HELP
from compare.score.operating_point import SCORE_THRESH
from compare.score.pairs import check_declared, parse_pair
from replicate.errors import one_line

DESCRIPTION = '''\
Score a run folder written by compare/run.py, from its saved outputs only
(meta.json, raw/): no detector runs. Writes into RUN_DIR the tables (*.csv,
and *.md except detections and agreement_pairs), summary.md, report.html and
figures/, replacing those of an earlier scoring. Every table that can be
written is; what could not be scored is printed ("not scored: ..."). Prints
the headline. Exit status: 0 scored; 2 a user error (one line, "error: ..."),
including --annotations that cannot be read (the other tables are written
first).'''


def add_scoring_options(parser):
    """The scoring options, shared with compare/run.py."""
    parser.add_argument('--annotations', default=None,
                        help='VOC Annotations folder / XML, or COCO JSON, for mAP; none: no '
                             'mAP, nothing looked up (default: annotations.json or '
                             'Annotations/ found beside the images; one that cannot be read '
                             'there is reported and skipped)')
    parser.add_argument('--score-thresh', type=float, default=SCORE_THRESH,
                        help='the operating point: detections with score >= this are '
                             'compared across detectors (agreement, precision, recall, F1, '
                             'errors, confusion); mAP uses every detection (default: '
                             '%(default)s)')
    parser.add_argument('--box-convention', choices=sorted(CONVENTIONS), default=DEFAULT,
                        help=HELP)
    parser.add_argument('--iou', type=float, default=0.5, help=IOU_HELP)
    parser.add_argument('--coco-evaluator', choices=sorted(EVALUATORS), default=COCO_DEFAULT,
                        help=COCO_HELP)
    parser.add_argument('--pair', action='append', default=None, metavar='A=B', type=_pair,
                        help='a pair of detectors (names) the headline is about, repeatable '
                             '(default: the pairs of the run, else inferred: a port beside '
                             'its reference on the same model, such as ours=chainercv)')


def _pair(text):
    try:
        parse_pair(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def check_annotations(option):
    """Read annotations given with --annotations now, so a broken file stops the
    run before any image is processed (found ones are read by scoring)."""
    from compare.score.ground_truth import NO_ANNOTATIONS, load_annotations
    if option is None or option == NO_ANNOTATIONS:
        return
    if not os.path.lexists(option):
        raise UserError('--annotations {} does not exist; pass a VOC Annotations folder, a VOC '
                        'XML file or a COCO JSON file (or none)'.format(option))
    load_annotations(option)


def score_run(run_dir, annotations=None, box_convention=None, score_thresh=SCORE_THRESH,
              nms_thresh=None, decode_score_thresh=None, log=None, pair=None, iou=None,
              coco_evaluator=None):
    """Score ``run_dir`` and write its reports; returns ``{table name:
    DataFrame}`` as written. Arguments: :func:`compare.score.scorer.score_tables`.

    Raises:
        UserError: the run folder cannot be read; or, after every table and
            report is written, ``annotations`` given explicitly cannot be read.
    """
    # here, not at the top: every command's options are parsed (and --help
    # printed) without importing the scorer and the report's plotting
    from compare import report
    from compare.score.scorer import finish, score_tables
    scored = score_tables(run_dir, annotations, box_convention, score_thresh=score_thresh,
                          nms_thresh=nms_thresh, decode_score_thresh=decode_score_thresh,
                          log=log, pair=pair, iou=iou, coco_evaluator=coco_evaluator)
    report.write_reports(scored)
    finish(scored, log)
    return scored.tables


def main(argv=None):
    """``python -m compare.score``; returns the exit status (0 scored, 2 a user error)."""
    parser = argparse.ArgumentParser(prog='python -m compare.score', description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('run_dir', help='run folder written by compare/run.py')
    add_scoring_options(parser)
    parser.add_argument('--nms-thresh', type=float, default=None,
                        help='re-decode the Chainer SSDs from their kept network outputs '
                             '(run with --keep-raw) with this NMS IoU threshold (default: '
                             'the run\'s own)')
    parser.add_argument('--decode-score-thresh', type=float, default=None,
                        help='the same, with this score threshold for decoding (default: the '
                             'run\'s own, i.e. the preset\'s)')
    args = parser.parse_args(argv)
    try:
        if not os.path.isdir(args.run_dir):
            raise UserError('{} is not a folder: pass a run folder written by compare/run.py'
                            .format(args.run_dir))
        if not (rundir.is_run_folder(args.run_dir) or
                os.path.lexists(os.path.join(args.run_dir, rundir.LOCK))):
            rundir.read_run(args.run_dir)  # refused before a lock file is made there
        check_links(args.run_dir)
        # what can be refused is, before anything of the run's is rewritten
        check_annotations(args.annotations)
        meta = rundir.read_meta(args.run_dir)
        if meta is not None:
            check_declared(args.pair, [entry.name for entry in meta.detectors])
        with RunLock(args.run_dir, 'python -m compare.score'):
            tables = score_run(args.run_dir, args.annotations, args.box_convention,
                               score_thresh=args.score_thresh, nms_thresh=args.nms_thresh,
                               decode_score_thresh=args.decode_score_thresh, log=_log,
                               pair=args.pair, iou=args.iou,
                               coco_evaluator=args.coco_evaluator)
    except UserError as exc:
        _log('error: {}'.format(one_line(exc)))
        return EXIT_USER_ERROR
    except OSError as exc:
        _log('error: {}'.format(describe_os_error(exc)))
        return EXIT_USER_ERROR
    from compare.score.headline import headline_lines
    print('\n'.join(headline_lines(tables,
                                   os.path.join(args.run_dir, rundir.REPORT))))
    return EXIT_OK


def _log(message):
    print(message, file=sys.stderr, flush=True)
