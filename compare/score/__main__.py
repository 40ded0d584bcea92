"""``python -m compare.score RUN_DIR [options]``: score a run folder again."""
import argparse
import os
import sys

from compare import rundir
from compare.errors import EXIT_USER_ERROR, UserError
from compare.score import score_run
from compare.score.conventions import CONVENTIONS, DEFAULT, HELP
from compare.score.headline import headline_lines
from compare.score.scorer import SCORE_THRESH

DESCRIPTION = '''\
Score a run folder written by compare/run.py, from its saved outputs only
(meta.json, raw/): no detector runs. Writes into RUN_DIR the tables (*.csv,
and *.md except detections and agreement_pairs), summary.md, report.html and
figures/, replacing those of an earlier scoring. Prints the headline.'''


def add_scoring_options(parser):
    """The scoring options, shared with compare/run.py."""
    parser.add_argument('--annotations', default=None,
                        help='VOC Annotations folder / XML, or COCO JSON, for mAP (default: '
                             'annotations.json or Annotations/ found beside the images)')
    parser.add_argument('--score-thresh', type=float, default=SCORE_THRESH,
                        help='the operating point: detections with score >= this are '
                             'compared across detectors (agreement, precision, recall, F1, '
                             'errors, confusion); mAP uses every detection (default: '
                             '%(default)s)')
    parser.add_argument('--box-convention', choices=sorted(CONVENTIONS), default=DEFAULT,
                        help=HELP)


def main(argv=None):
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
        tables = score_run(args.run_dir, args.annotations, args.box_convention,
                           score_thresh=args.score_thresh, nms_thresh=args.nms_thresh,
                           decode_score_thresh=args.decode_score_thresh)
    except UserError as exc:
        print('error: {}'.format(' '.join(str(exc).split())), file=sys.stderr)
        return EXIT_USER_ERROR
    print('\n'.join(headline_lines(tables['headline'],
                                   os.path.join(args.run_dir, rundir.REPORT))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
