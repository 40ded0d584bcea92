"""``python -m compare.score RUN_DIR [--annotations PATH]``: score a run folder again."""
import argparse
import sys

from compare.errors import EXIT_USER_ERROR, UserError
from compare.score import score_run
from compare.score.conventions import CONVENTIONS, DEFAULT, HELP

DESCRIPTION = '''\
Score a run folder written by compare/run.py, from its saved outputs only
(meta.json, raw/): no detector runs. Writes into RUN_DIR the tables (*.csv,
and *.md except detections and agreement_pairs), summary.md, report.html and
figures/*.png, replacing those of an earlier scoring.'''


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m compare.score', description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('run_dir', help='run folder written by compare/run.py')
    parser.add_argument('--annotations', default=None,
                        help='VOC Annotations folder / XML, or COCO JSON (default: '
                             'annotations.json or Annotations/ found beside the images)')
    parser.add_argument('--box-convention', choices=sorted(CONVENTIONS), default=DEFAULT,
                        help=HELP)
    args = parser.parse_args(argv)
    try:
        tables = score_run(args.run_dir, args.annotations, args.box_convention)
    except UserError as exc:
        print('error: {}'.format(' '.join(str(exc).split())), file=sys.stderr)
        return EXIT_USER_ERROR
    print('scored {}: {} tables, summary.md, report.html'.format(args.run_dir, len(tables)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
