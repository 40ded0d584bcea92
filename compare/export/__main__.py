"""``python -m compare.export RUN_DIR --coco OUT``: a run folder as COCO files."""
import argparse
import sys

from compare.errors import EXIT_OK, EXIT_USER_ERROR, UserError, describe_os_error
from compare.export.coco import export
from compare.score.conventions import CONVENTIONS, DEFAULT, HELP
from replicate.errors import one_line

DESCRIPTION = '''\
Write a run folder's detections as COCO results JSON, one file per detector
(OUT/<detector>.results.json, category and image ids of the ground truth),
and, when the ground truth is VOC XML, the ground truth as OUT/ground_truth.json
(boxes as scoring reads them under --box-convention). pycocotools, FiftyOne
or any COCO tool opens them (set pycocotools' params.catIds to a detector's
category_ids in OUT/detectors.json to score it on its own classes, as the run
does); compare/run.py -d file:RESULTS.json,images=GT.json[,classes=A+B] reads
them back as a detector (OUT/detectors.json: the spec per detector). OUT
ending in .json is the results file of one detector (--detector). Exit
status: 0 written; 2 a user error (one line).'''


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m compare.export', description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('run_dir', help='run folder written by compare/run.py')
    parser.add_argument('--coco', required=True, metavar='OUT',
                        help='output folder, or a results .json for one detector')
    parser.add_argument('--annotations', default=None,
                        help='VOC Annotations folder / XML, or COCO JSON (default: found '
                             'beside the run\'s images, as scoring finds them)')
    parser.add_argument('--box-convention', choices=sorted(CONVENTIONS), default=DEFAULT,
                        help=HELP)
    parser.add_argument('--detector', action='append', default=None, metavar='NAME',
                        help='export this detector only (repeatable; default: every detector '
                             'that ran)')
    args = parser.parse_args(argv)
    try:
        for path in export(args.run_dir, args.coco, args.annotations, args.box_convention,
                           args.detector, log=_log):
            print(path)
    except UserError as exc:
        _log('error: {}'.format(one_line(exc)))
        return EXIT_USER_ERROR
    except OSError as exc:
        _log('error: {}'.format(describe_os_error(exc)))
        return EXIT_USER_ERROR
    return EXIT_OK


def _log(message):
    print(message, file=sys.stderr, flush=True)


if __name__ == '__main__':
    sys.exit(main())
