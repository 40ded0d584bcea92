"""Command line of the comparison run: ``python compare/run.py IMAGES [...]``.

Steps: list images -> build and load detectors -> per-image loop (raw/*.jsonl,
resumable) -> speed benchmark (raw/timings.csv) -> meta.json -> scoring
(``compare.score.score_run``) if that module is importable.
"""
import argparse
import os
import sys

import pandas as pd

from compare import meta, rawstore, runner, speed
from compare.adapters import BUILDERS, build_all, parse_spec
from compare.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, UserError, is_user_error
from compare.images import list_images, load_rgb
from compare.paths import display_path, from_run
from compare.score_speed import speed_table

DEFAULT_DETECTORS = ('ours', 'chainercv')


def parser():
    p = argparse.ArgumentParser(
        prog='python compare/run.py',
        description='Run object detectors on a folder of images and write raw outputs '
                    '(raw/<detector>.jsonl, raw/timings.csv, raw/skipped.csv, meta.json).',
        epilog='Detector specs: KIND[:ARG][,KEY=VALUE...], kinds: {}. Examples: ours:random, '
               'chainercv:voc0712, tf:exports/my_model, tfzoo:ssd_mobilenet_v2_320x320_coco17_tpu-8'
               ', tf1:path/frozen_inference_graph.pb,labels=coco, fake:0. Every kind also takes '
               'name=NAME and random_weights=yes (marks an untrained export as RANDOM '
               'weights in meta.json and in the report banner). ours and chainercv are '
               'always run (voc0712 if cached, else random weights, recorded loudly) unless given '
               'explicitly or --no-default-detectors.'.format(', '.join(BUILDERS)))
    p.add_argument('images', help='folder of images (walked recursively, sorted)')
    p.add_argument('--detector', '-d', action='append', default=[], metavar='SPEC',
                   help='detector to run (repeatable)')
    p.add_argument('--no-default-detectors', action='store_true',
                   help='run only the --detector specs')
    p.add_argument('--out', help='run folder (default reports/compare-<images folder name>)')
    p.add_argument('--annotations', help='annotations for scoring (default: found beside images)')
    p.add_argument('--force', action='store_true', help='redo all images (default: resume)')
    p.add_argument('--preset', default='auto', choices=('auto', 'visualize', 'evaluate'),
                   help='score threshold preset of the Chainer SSDs (auto: evaluate for trained '
                        'weights, visualize for random ones)')
    p.add_argument('--tf-zoo-dir', help='cache of TF model zoo archives (default '
                   '$SSD_SUITE_TF_ZOO_DIR or ~/.cache/ssd-suite/tf_zoo)')
    p.add_argument('--batch-sizes', default='1', help='comma list for the speed benchmark')
    p.add_argument('--repeats', type=int, default=5, help='timed repeats per batch size')
    p.add_argument('--warmup', type=int, default=1, help='untimed calls before timing')
    p.add_argument('--no-speed', action='store_true', help='skip the speed benchmark')
    p.add_argument('--no-score', action='store_true', help='do not call compare.score')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    return p


def detector_specs(args):
    """The specs to run: the given ones plus the defaults not overridden."""
    given = [parse_spec(spec)[0] for spec in args.detector]
    defaults = [] if args.no_default_detectors else [k for k in DEFAULT_DETECTORS if k not in given]
    specs = defaults + list(args.detector)
    if not specs:
        raise UserError('no detectors: give --detector SPEC (kinds: {})'.format(
            ', '.join(BUILDERS)))
    return specs


def batch_sizes(text):
    try:
        sizes = [int(part) for part in text.split(',')]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise UserError('--batch-sizes must be positive integers separated by commas, got {!r}'
                        .format(text))
    return sizes


def recorded_args(args, specs):
    """The CLI arguments for meta.json, paths as :func:`compare.paths.display_path`
    (relative to the cwd when inside it) so reruns in another clone match."""
    record = dict(vars(args), detector=specs)
    for key in ('images', 'out', 'annotations', 'tf_zoo_dir'):
        record[key] = display_path(record[key])
    return record


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(args):
    """The whole run; returns the output folder."""
    images, listed_skipped = list_images(args.images)
    sizes = batch_sizes(args.batch_sizes)
    if args.repeats < 1 or args.warmup < 0:
        raise UserError('--repeats must be >= 1 and --warmup >= 0 (got {} and {})'.format(
            args.repeats, args.warmup))
    specs = detector_specs(args)
    adapters = build_all(specs, {'preset': args.preset, 'tf_zoo_dir': args.tf_zoo_dir})
    out = args.out or os.path.join('reports', 'compare-' + os.path.basename(
        os.path.abspath(args.images)))
    raw_dir = os.path.join(out, 'raw')
    os.makedirs(raw_dir, exist_ok=True)
    rawstore.write_readme(raw_dir)
    statuses = runner.load_adapters(adapters, raw_dir, log=log)
    _refuse_all_failed(statuses)
    _refuse_mixed_resume(out, adapters, statuses, args.force)
    uses_tf = any(parse_spec(s)[0] in meta.TF_KINDS and statuses[a.name] == 'ok'
                  for s, a in zip(specs, adapters, strict=True))
    record = recorded_args(args, specs)
    images_info = {'folder': display_path(args.images),
                   'folder_from_run': from_run(args.images, out), 'listed': len(images),
                   'not_images': len(listed_skipped)}
    write = lambda state, counts=None: meta.write_meta(out, meta.build_meta(  # noqa: E731
        record, adapters, statuses, images_info, state, counts, uses_tf))
    write('running')
    counts = None
    try:
        counts = runner.run_images(adapters, args.images, images, raw_dir, statuses,
                                   force=args.force, progress=not args.no_progress)
    except KeyboardInterrupt:
        write('interrupted')
        raise
    finally:
        unread = counts['unreadable'] if counts else []
        runner.write_skipped(os.path.join(raw_dir, 'skipped.csv'), listed_skipped + unread)
    if not args.no_speed:
        _speed(adapters, statuses, args, images, sizes, raw_dir)
    write('complete', counts)
    _report_failures(adapters, statuses)
    if not args.no_score:
        _score(out, args.annotations)
    return out


def _refuse_all_failed(statuses):
    """Some detectors may fail (the run reports why); all failing is an error."""
    if not any(status == 'ok' for status in statuses.values()):
        raise UserError('no detector could be loaded ({}); fix the cause above or pass other '
                        '--detector specs'.format('; '.join(
                            '{} {}'.format(name, status) for name, status in statuses.items())))


def _refuse_mixed_resume(out, adapters, statuses, force):
    changed = meta.changed_weights(meta.read_meta(out), adapters, statuses)
    if changed and not force:
        raise UserError('{} already holds results of {} with other weights/preset; use --force '
                        'to redo or --out for a new folder'.format(out, ', '.join(changed)))


def _speed(adapters, statuses, args, images, sizes, raw_dir):
    """Benchmark on the first readable images; writes raw/timings.csv."""
    sample = _readable(args.images, images, max(sizes))
    rows = []
    for adapter in [a for a in adapters if statuses[a.name] == 'ok']:
        log('speed: {} (batch sizes {}, warm-up {}, repeats {})'.format(
            adapter.name, sizes, args.warmup, args.repeats))
        rows += speed.benchmark(adapter, sample, sizes, args.warmup, args.repeats)
    speed.write_timings(rows, os.path.join(raw_dir, 'timings.csv'))
    if rows:
        log(speed.format_summary(speed_table(pd.DataFrame(rows), {})))


def _readable(folder, images, count):
    sample = []
    for image in images:
        try:
            sample.append(load_rgb(os.path.join(folder, image)))
        except UserError:
            continue
        if len(sample) == count:
            break
    if not sample:
        raise UserError('no readable image in {} (see raw/skipped.csv)'.format(folder))
    return sample


def _report_failures(adapters, statuses):
    for adapter in adapters:
        if statuses[adapter.name] != 'ok':
            log('WARNING: detector {} {}'.format(adapter.name, statuses[adapter.name]))


def _score(out, annotations):
    try:
        from compare.score import score_run
    except ImportError as exc:
        log('scoring skipped: compare.score not importable ({}); later run: '
            'python -m compare.score {}'.format(exc, out))
        return
    score_run(out, annotations=annotations)
    log('scored: {}'.format(out))


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        out = run(args)
    except KeyboardInterrupt:
        log('interrupted: re-run the same command to resume (finished images are kept), '
            'or add --force to start over')
        return EXIT_INTERRUPTED
    except Exception as exc:
        if not is_user_error(exc):
            raise
        log('error: {}'.format(' '.join(str(exc).split())))
        return EXIT_USER_ERROR
    log('done: {}'.format(out))
    return 0
