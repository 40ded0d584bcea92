"""The run of ``python compare/run.py IMAGES [...]`` in one process: its options
(:func:`parser`), checked before anything loads, and :func:`run` (the command
itself, which may also launch the run under MPI, is :func:`compare.run.main`).

Steps: list images -> build and load detectors -> per-image loop
(:mod:`compare.runner.loop`: raw/*.jsonl, resumable) -> speed benchmark
(:mod:`compare.runner.benchmark`: raw/timings.csv) -> meta.json -> scoring and
reports (:func:`compare.runner.scoring.score_run`). Every file it writes is written through
:mod:`compare.rundir`.
"""
import argparse
import contextlib
import os
import signal
import sys
import textwrap

from compare import limits, rundir
from compare.adapters import build_all, check_paths, kinds_help, uses_tensorflow
from compare.adapters.common_nms import SUFFIX, NMSParams
from compare.adapters.protocol import is_timed
from compare.errors import UserError
from compare.images import list_images, read_image
from compare.paths import display_path, from_run
from compare.rundir.claim import check_out
from compare.rundir.lock import RunLock
from compare.runner import benchmark, command, loop, resume, shard, skipped, verify
from compare.runner.scoring import add_scoring_options, check_annotations, score_run
from provenance.stamp import provenance
from replicate.cpuinfo import cpu_facts
from replicate.errors import one_line

#: What runs when no --detector is given.
DEFAULT_DETECTORS = ('ours', 'chainercv')

DESCRIPTION = '''\
Run object detectors on a folder of images, then score them.

Writes the run folder OUT: meta.json and raw/ (raw/<detector>.jsonl,
raw/timings.csv, raw/skipped.csv, raw/README.md: the format), then, unless
--no-score, the tables (*.csv, *.md), summary.md, report.html and figures/
(as `python -m compare.score OUT` does). A run folder that already holds
results is resumed: images a detector has done are not run again for it, when
the saved record is of the same image content, the same images folder and the
same detector (weights, settings); one run at a time per folder (OUT/lock).
Exit status: 0 done; 2 a user error (one line, "error: ..."); 3 incomplete:
the run ended but a detector failed to load or on an image, or no image could
be read ("incomplete: ..."); 130 interrupted (Ctrl-C, SIGTERM).'''

EPILOG = '''\
Detector specs (-d): KIND[:ARG][,KEY=VALUE...]. Without -d, {defaults}
run; any -d replaces them. Every kind also takes name=NAME (the detector's
name and raw file name) and random_weights=yes (records an untrained export
as RANDOM weights in meta.json and in the report banner).
{kinds}
Examples: -d ours:voc0712 -d chainercv:random:3 -d tf:exports/my_model
  -d tfzoo:ssd_mobilenet_v2_320x320_coco17_tpu-8
  -d tf1:path/frozen_inference_graph.pb,labels=coco

Large image sets: `mpiexec -n N python compare/run.py IMAGES --out RUN ...`
runs N shards at once and merges them (mpi4py); without MPI, run
`--shard K/N` for K = 1..N (anywhere), then `python -m compare.merge RUN`.

{limits}'''


def parser():
    p = argparse.ArgumentParser(
        prog='python compare/run.py', description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG.format(defaults=' and '.join(DEFAULT_DETECTORS), kinds=kinds_help(),
                            limits=textwrap.fill(limits.help_text(), 79)))
    p.add_argument('images', help='folder of images (walked recursively, sorted)')
    p.add_argument('--detector', '-d', action='append', default=[], metavar='SPEC',
                   help='detector to run (repeatable; default: {})'.format(
                       ', '.join(DEFAULT_DETECTORS)))
    p.add_argument('--out', help='run folder (default: reports/compare-<images folder name>)')
    add_scoring_options(p)
    p.add_argument('--force', action='store_true',
                   help='redo every image for these detectors: the saved results of each one '
                        'that loads are deleted (a detector that fails to load keeps its own); '
                        'also recovers a run folder whose meta.json cannot be read '
                        '(default: resume). Never deletes a file the suite did not write: a '
                        'folder that is not a run folder is refused, --force or not')
    p.add_argument('--preset', default='auto', choices=('auto', 'visualize', 'evaluate'),
                   help='score threshold preset of the Chainer SSDs (default: %(default)s: '
                        'evaluate for trained weights, visualize for random ones)')
    p.add_argument('--tf-zoo-dir', help='cache of TF model zoo archives (default: '
                   '$SSD_SUITE_TF_ZOO_DIR, else ~/.cache/ssd-suite/tf_zoo)')
    p.add_argument('--batch-sizes', default='1',
                   help='comma list for the speed benchmark (default: %(default)s)')
    p.add_argument('--repeats', type=int, default=5,
                   help='timed calls per batch size (default: %(default)s)')
    p.add_argument('--warmup', type=int, default=1,
                   help='untimed calls before timing (default: %(default)s)')
    p.add_argument('--no-speed', action='store_true',
                   help='skip the speed benchmark (no raw/timings.csv)')
    p.add_argument('--no-score', action='store_true', help='write meta.json and raw/ only')
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    p.add_argument('--keep-raw', action='store_true',
                   help='keep the Chainer SSDs\' network outputs per image under raw/netout/ '
                        '(compressed, ~0.8 MB per image), so `python -m compare.score RUN '
                        '--nms-thresh N --decode-score-thresh S` can re-decode them and the '
                        'report shows an NMS x score threshold grid')
    defaults = NMSParams()
    p.add_argument('--common-nms', action='store_true',
                   help='also run every detector that can give its boxes before NMS (Chainer '
                        'SSDs, TF OD API SSD exports) through ONE post-processing, as the '
                        'detector <name>{}: per-class NMS with --common-iou, --common-score '
                        'and --common-cap'.format(SUFFIX))
    p.add_argument('--common-iou', type=float, default=defaults.iou,
                   help='IoU threshold of --common-nms (default: %(default)s)')
    p.add_argument('--common-score', type=float, default=defaults.score,
                   help='score threshold of --common-nms (default: %(default)s)')
    p.add_argument('--common-cap', type=int, default=defaults.cap,
                   help='detections kept per image by --common-nms (default: %(default)s)')
    p.add_argument('--shard', metavar='K/N',
                   help='run only shard K of N (K from 1): the images at positions K-1, '
                        'K-1+N, K-1+2N, ... of the sorted list, into OUT/shards/K-of-N, not '
                        'scored (shard 1 alone runs the speed benchmark); once all N are '
                        'done, `python -m compare.merge OUT` makes OUT one run folder')
    p.add_argument('--mpi', action='store_true',
                   help='run as one rank of an MPI job (mpi4py): rank R runs shard R+1 of '
                        'the job size, rank 0 merges and scores. Automatic when mpiexec '
                        '(Open MPI, MPICH, Intel MPI) starts more than one process')
    return p


def detector_specs(args):
    """The specs to run: those given, else :data:`DEFAULT_DETECTORS`."""
    return list(args.detector) or list(DEFAULT_DETECTORS)


def batch_sizes(text):
    """``'1,8'`` -> ``[1, 8]``, within :mod:`compare.limits`."""
    try:
        sizes = [int(part) for part in text.split(',')]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise UserError('--batch-sizes must be positive integers separated by commas, got {!r}'
                        .format(text))
    if max(sizes) > limits.MAX_BATCH_SIZE or len(sizes) > limits.MAX_BATCH_SIZES:
        raise UserError('--batch-sizes {!r}: at most {} sizes, each at most {} (memory grows '
                        'with the batch)'.format(
                            text, limits.MAX_BATCH_SIZES, limits.MAX_BATCH_SIZE))
    return sizes


def check_counts(args):
    """--repeats and --warmup within :mod:`compare.limits`."""
    if not (1 <= args.repeats <= limits.MAX_REPEATS and 0 <= args.warmup <= limits.MAX_WARMUP):
        raise UserError('--repeats must be 1..{} and --warmup 0..{} (got {} and {})'.format(
            limits.MAX_REPEATS, limits.MAX_WARMUP, args.repeats, args.warmup))


def output_folder(args):
    """The run folder: --out, else reports/compare-<images folder name>."""
    if args.out is not None and not args.out.strip():
        raise UserError("--out {!r} names no folder; give a folder for the run (or leave --out "
                        'out for reports/compare-<images folder name>)'.format(args.out))
    return args.out or os.path.join('reports', 'compare-' + os.path.basename(
        os.path.abspath(args.images)))


def prepare_output(out, images_dir):
    """Create ``out`` and ``out/raw``, or say in one line why it cannot be:
    ``out`` must be missing, empty or a run folder of this suite, without
    links where the run writes (:func:`compare.rundir.claim.check_out`;
    nothing is changed before that holds)."""
    if os.path.lexists(out) and not os.path.isdir(out):
        raise UserError('--out {} is a file, not a folder; pass a folder (it is created if '
                        'missing)'.format(out))
    if os.path.realpath(out) == os.path.realpath(images_dir):
        raise UserError('--out {} is the images folder itself; pass another folder'.format(out))
    check_out(out)
    try:
        os.makedirs(os.path.join(out, rundir.RAW), exist_ok=True)
    except OSError as exc:
        raise UserError('cannot create the run folder {}: {} ({}); pass a writable --out'
                        .format(out, exc.strerror, exc.filename)) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError('cannot write into {}: no permission; pass another --out'.format(out))


def recorded_args(args, specs):
    """The CLI arguments for meta.json, paths as :func:`compare.paths.display_path`
    (relative to the cwd when inside it) so reruns in another clone match."""
    from compare.score.ground_truth import NO_ANNOTATIONS
    record = dict(vars(args), detector=specs)
    for key in ('images', 'out', 'annotations', 'tf_zoo_dir'):
        if not (key == 'annotations' and record[key] == NO_ANNOTATIONS):
            record[key] = display_path(record[key])
    return record


def log(message):
    print(message, file=sys.stderr, flush=True)


def common_params(args):
    """The :class:`NMSParams` of ``--common-nms``, or None."""
    if not args.common_nms:
        return None
    if not (0 <= args.common_iou <= 1 and 0 <= args.common_score <= 1 and
            1 <= args.common_cap <= limits.MAX_OBJECTS_PER_IMAGE):
        raise UserError('--common-iou and --common-score must be in [0, 1] and --common-cap '
                        'in 1..{} (the most detections a record holds; got {}, {}, {})'.format(
                            limits.MAX_OBJECTS_PER_IMAGE, args.common_iou, args.common_score,
                            str(args.common_cap)[:20]))
    return NMSParams(args.common_iou, args.common_score, args.common_cap)


def validate(args):
    """Every option checked before any detector loads: ``(out, images,
    skipped, batch sizes, specs, NMS params)``."""
    out = output_folder(args)
    images, listed_skipped = list_images(args.images, exclude=[out])
    from compare.score.conventions import get as box_convention
    box_convention(args.box_convention, args.iou)  # a typo fails now, not after the run
    from compare.score.coco_eval import check as coco_evaluator
    coco_evaluator(args.coco_evaluator)
    sizes = batch_sizes(args.batch_sizes)
    check_counts(args)
    if not 0 <= args.score_thresh <= 1:
        raise UserError('--score-thresh must be between 0 and 1, got {}'.format(
            args.score_thresh))
    for spec in detector_specs(args):
        check_paths(spec)  # a missing file or folder: one line, before anything loads
    return out, images, listed_skipped, sizes, detector_specs(args), common_params(args)


def run(args, plan=None):
    """The whole run.

    Args:
        plan: :class:`compare.runner.shard.Plan` (default: from ``--shard``): a
            shard runs its slice of the images into its own folder, and
            neither times (but shard 1) nor scores.

    Returns:
        ``(out, problems, headline)``: the run folder (a shard's own), what
        was asked but not done (one string each; empty when everything was
        done), and the headline lines of the scoring (empty with --no-score
        and for a shard).
    """
    plan = plan or shard.Plan.of_args(args)
    run_dir, listing, listed_skipped, sizes, specs, common = validate(args)
    images, out = plan.select(listing), plan.folder(run_dir)
    adapters = build_all(specs, {'preset': args.preset, 'tf_zoo_dir': args.tf_zoo_dir,
                                 'keep_raw': args.keep_raw, 'common_nms': common})
    from compare.score.pairs import check_declared
    check_declared(args.pair, [adapter.name for adapter in adapters])
    check_annotations(args.annotations)
    prepare_output(out, args.images)
    with RunLock(out, 'compare/run.py') as lock:
        if lock.previous:
            log('took over the lock of {} left by pid {} on {} (that run ended without '
                'releasing it)'.format(out, lock.previous.get('pid'), lock.previous.get('host')))
        problems, headline = _locked_run(args, out, images, listed_skipped, sizes, specs,
                                         adapters, plan, listing)
    if plan.sharded:
        log(plan.done_message(run_dir))
    return out, problems, headline


def _locked_run(args, out, images, listed_skipped, sizes, specs, adapters, plan, listing):
    """The run, holding the folder's lock; returns ``(problems, headline)``
    (see :func:`run`). ``images``: this run's (a shard's slice of
    ``listing``, the whole sorted list)."""
    resume.check_folder(out, args.images, args.force, log)
    rundir.write_readme(out)
    if plan.sharded:
        rundir.write_shard(out, plan.describe(args.images, listing))
    statuses = loop.load_adapters(adapters, out, log=log)
    _variants_follow_their_base(adapters, statuses)
    _refuse_all_failed(statuses)
    loaded = {name for name, status in statuses.items() if status == 'ok'}
    done = resume.prepare(out, adapters, statuses, args.images, images, args.force, log)
    # adapters: one per spec, in order, each followed by its .common_nms variant if any
    built = [a for a in adapters if getattr(a, 'base', None) is None]
    uses_tf = any(uses_tensorflow(spec) and a.name in loaded
                  for spec, a in zip(specs, built, strict=True))
    record = recorded_args(args, specs)
    images_info = rundir.ImagesInfo(display_path(args.images), from_run(args.images, out),
                                    len(images), len(listed_skipped))
    write = lambda state, counts=None: rundir.write_meta(out, _meta(  # noqa: E731
        record, adapters, statuses, loaded, images_info, state, counts, uses_tf))
    write('running')
    counts = None
    try:
        plan.ready()
        try:
            counts = loop.run_images(adapters, args.images, images, out, statuses, done,
                                       progress=not args.no_progress)
        finally:
            unread = counts['unreadable'] if counts else []
            rundir.write_skipped(out, listed_skipped + unread)
            for line in skipped.warning_lines(listed_skipped + unread):
                log(line)
        readable = len(images) - len(counts['unreadable'])
        plan.images_done()
        if args.no_speed or not plan.times:
            rundir.write_timings(out, None)
            rundir.write_benchmarks(out, None)
        elif readable or (plan.sharded and _any_readable(args.images, listing)):
            # a shard (shard 1) times the first images of the whole list, as one run would
            _speed(adapters, statuses, args, listing, sizes, out)
        verify.check_records(out, done, counts)  # what meta.json claims is what is on disk
        write('complete', counts)
    except KeyboardInterrupt:
        write('interrupted', counts)
        raise
    except BaseException:
        _quietly(lambda: write('failed', counts))
        raise
    _report_failures(adapters, statuses)
    problems = command.problems_of(statuses, readable, args.images)
    if plan.scores and not args.no_score:
        from compare.score.headline import headline_lines
        tables = score_run(out, annotations=args.annotations,
                           box_convention=args.box_convention, score_thresh=args.score_thresh,
                           log=log, iou=args.iou, coco_evaluator=args.coco_evaluator)
        log('scored: {}'.format(out))
        lines = headline_lines(tables, os.path.join(out, rundir.REPORT))
        return problems, (lines[:-1] + skipped.headline_line(listed_skipped + counts['unreadable'])
                          + lines[-1:])
    return problems, []


def _variants_follow_their_base(adapters, statuses):
    """A ``.common_nms`` variant fails when its base detector failed to load."""
    for adapter in adapters:
        base = getattr(adapter, 'base', None)
        if base is not None and statuses.get(base.name) != 'ok':
            statuses[adapter.name] = 'failed: its detector {} failed to load'.format(base.name)


def _quietly(action):
    """Run ``action`` (recording a failed state); an error there must not hide
    the one being reported."""
    try:
        action()
    except Exception:  # the original error is what the user needs to see
        pass


def _meta(args, adapters, statuses, loaded, images_info, state, counts, uses_tf):
    """The :class:`compare.rundir.RunMeta` of the run so far (image counts
    once the images are done); ``loaded``: names of the detectors that loaded."""
    def entry(adapter):
        is_loaded = adapter.name in loaded
        if counts is None:
            return rundir.DetectorEntry.of(adapter.info(), statuses[adapter.name],
                                           loaded=is_loaded)
        return rundir.DetectorEntry.of(adapter.info(), statuses[adapter.name],
                                       counts['done'].get(adapter.name, 0),
                                       counts['new'].get(adapter.name, 0), is_loaded)
    entries = tuple(entry(a) for a in adapters)
    extra = {'detectors': ', '.join('{}={}'.format(d.name, d.weights) for d in entries),
             # the instruction sets behind every speed number (int8 above all)
             'cpu.isa': cpu_facts()['cpu.isa']}
    return rundir.RunMeta(provenance(import_tensorflow=uses_tf, extra=extra), args, images_info,
                          state, entries)


def _refuse_all_failed(statuses):
    """Some detectors may fail (the run reports why); all failing is an error.
    The reasons were logged one line each just above: not repeated here."""
    if not any(status == 'ok' for status in statuses.values()):
        raise UserError('no detector could be loaded ({}: see the line of each above); fix '
                        'the cause or pass other --detector specs'.format(', '.join(statuses)))


def _speed(adapters, statuses, args, images, sizes, out):
    """Benchmark on the first readable images, reusing the timings of a
    detector already timed in this folder with the same identity (not with
    --force); writes raw/timings.csv and raw/benchmark.csv and prints the
    total columns as scoring will compute them."""
    from tqdm import tqdm

    from compare.score.speed import speed_table
    sample, fingerprints = _readable(args.images, images, max(sizes))
    old_rows, old_bench = ([], []) if args.force else _earlier_timings(out)
    rows, bench, todo = [], [], []
    for adapter in [a for a in adapters if statuses[a.name] == 'ok' and is_timed(a)]:
        ident = benchmark.identity(adapter.info(), fingerprints)
        for size in sizes:
            reuse = benchmark.cached(old_bench, old_rows, adapter.name, size, ident, args.warmup,
                                     args.repeats)
            if reuse is None:
                todo.append((adapter, size, ident))
            else:
                log('speed: {} batch {}: timings of an earlier run reused (same detector, '
                    'images, device, threads, repeats; --force retimes)'.format(
                        adapter.name, size))
                rows += reuse[0]
                bench.append(reuse[1])
    bar = tqdm(total=sum((args.warmup + args.repeats) for _ in todo), unit='call',
               desc='timing', disable=args.no_progress or not todo, file=sys.stderr)
    try:
        for adapter, size, ident in todo:
            bar.set_postfix_str('{} batch {}'.format(adapter.name, size))
            found, conditions = benchmark.benchmark_one(adapter, sample, size, args.warmup,
                                                        args.repeats, ident, bar)
            rows += found
            bench.append(conditions)
    finally:
        bar.close()
    rows.sort(key=lambda t: (t.detector, t.batch_size, t.repeat))
    rundir.write_timings(out, rows)
    rundir.write_benchmarks(out, sorted(bench, key=lambda b: (b.detector, b.batch_size)))
    if rows:
        log(benchmark.format_summary(speed_table(rundir.read_timings(out), {},
                                                 rundir.read_benchmarks(out))))


def _earlier_timings(out):
    """``(timing rows, Benchmark rows)`` of an earlier run into ``out``; files
    that cannot be read are not reused (this run rewrites them)."""
    try:
        return rundir.read_timings(out) or [], rundir.read_benchmarks(out)
    except UserError as exc:
        log('speed: earlier timings not reused: {}'.format(one_line(exc)))
        return [], []


def _readable(folder, images, count):
    """The first ``count`` readable images of ``images`` and the sha256 of each
    file: ``(list of LoadedImage, list of str)``."""
    sample, fingerprints = [], []
    for image in images:
        try:
            loaded, sha256 = read_image(os.path.join(folder, image))
        except UserError:
            continue
        sample.append(loaded)
        fingerprints.append(sha256)
        if len(sample) == count:
            break
    if not sample:
        raise UserError('no readable image in {} (see raw/skipped.csv)'.format(folder))
    return sample, fingerprints


def _any_readable(folder, images):
    """Whether some image of ``images`` can be read."""
    try:
        _readable(folder, images, 1)
    except UserError:
        return False
    return True


def _report_failures(adapters, statuses):
    for adapter in adapters:
        if statuses[adapter.name] != 'ok':
            log('WARNING: detector {} {}'.format(adapter.name, statuses[adapter.name]))


def run_command(args):
    """:func:`run` with the command's messages; returns the exit status
    (:mod:`compare.errors`: 0 done, 2 a user error, 3 incomplete, 130
    interrupted by Ctrl-C or SIGTERM). The command, which also chooses an MPI
    launch, is :func:`compare.run.main`."""
    def action():
        with sigterm_interrupts():
            return run(args)
    result, code = command.call(action, log, 'interrupted: re-run the same command to resume '
                                             '(finished images are kept), or add --force to '
                                             'start over')
    if result is None:
        return code
    return command.finish(*result, log, what=_skipped_note(result[0]))


def _skipped_note(out):
    """The done line's words on unreadable files skipped (``''`` if none)."""
    try:
        return skipped.done_note(rundir.read_skipped(out))
    except (UserError, OSError):  # the run's own file; its problems are reported elsewhere
        return ''


@contextlib.contextmanager
def sigterm_interrupts():
    """SIGTERM (``kill``, a batch system's stop) ends the run as Ctrl-C does:
    meta.json says ``interrupted``, the lock is released, resuming works."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
