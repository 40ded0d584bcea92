"""``python -m compare.merge RUN [--shards DIR ...]``: N shards -> one run folder.

The shards are ``RUN/shards/K-of-N`` (written by ``compare/run.py ... --shard
K/N``; copy them there from other machines, or name them with ``--shards``).
They are merged only when they belong to one run (:mod:`compare.shards.check`:
complete, the same images listing, detector identities, versions and scoring
settings, each holding exactly its slice), and only records a resume would
keep: each record's image sha256 is that of the image file now. Else a
one-line error says which shard and why, and nothing is written. Every option
is checked first (:mod:`compare.shards.options`), and each folder is given
once (a folder named twice, or the run folder among the shards, is refused
before any lock is taken: the merge never finds its own lock held).

The merge holds the lock of RUN (:mod:`compare.rundir.lock`) while it writes and
scores, and the lock of every shard while it reads them: a shard that is
still running is refused (wait for it to end), and no shard starts while it
is read.

Then RUN is written as an unsharded run would write it: ``raw/<detector>.jsonl``
(the records, with their image sha256, of the shards where the detector
loaded, in the order of the whole list), ``raw/<detector>.identity.json``
(the one every shard agrees on), ``raw/skipped.csv`` (their union),
``raw/timings.csv`` and ``raw/benchmark.csv`` (shard 1's),
``raw/netout/`` (the loaded detectors') and ``raw/<detector>.error.txt`` (of
the shards where it failed, each headed by its shard), ``raw/README.md`` and
``meta.json`` (shard 1's, with the images, counts and statuses of all
shards: a detector is ``loaded`` if it loaded in some shard and ``failed:
shard K/N: <reason>`` if it failed in one; ``args.out`` the merged folder,
``args.merged_from`` the shard folders, and the scoring options given to the
merge in place of the shards'). Nothing is taken from the shards:
they stay as they are, so a merge can be redone. RUN is then scored as
``python -m compare.score RUN`` would (scoring options default to those the
shards were run with).

Exit status as ``compare/run.py``'s: 0 done; 2 a user error (one line); 3
incomplete: a detector failed (to load, or on an image) in some shard, or no
image could be read ("incomplete: ..."); 130 interrupted.
"""
import argparse
import contextlib
import dataclasses
import glob
import os
import re
import sys

from compare import rundir
from compare.errors import UserError
from compare.paths import display_path, from_run
from compare.rundir import files
from compare.rundir.claim import check_out
from compare.rundir.lock import RunLock
from compare.runner import command, shard
from compare.runner.scoring import add_scoring_options, score_run
from compare.score.headline import headline_lines
from compare.shards import options
from compare.shards.check import check, images_folder, read_shard

COMMAND = 'python -m compare.merge'

DESCRIPTION = '''\
Merge the shards of a run (compare/run.py IMAGES --out RUN --shard K/N, for K
= 1..N) into the run folder RUN, then score it. The shards are RUN/shards/K-of-N
unless --shards names them. They must be complete, of the same images listing,
detectors and versions, each holding exactly its slice, and none still running.
Exit status: 0 done; 2 a user error; 3 incomplete (a detector failed in some
shard, or no image could be read); 130 interrupted.'''


def shard_folders(run_dir, given=None):
    """The folders to merge: ``given``, else ``RUN/shards/*-of-*`` (sorted by K)."""
    if given:
        return list(given)
    found = [path for path in glob.glob(os.path.join(run_dir, rundir.SHARDS, '*'))
             if rundir.shard_of_folder(path) is not None]
    if not found:
        raise UserError('{} has no shard folders ({}/K-of-N); run `python compare/run.py '
                        'IMAGES --out {} --shard K/N` for K = 1..N first, or pass the shard '
                        'folders with --shards'.format(run_dir, os.path.join(
                            run_dir, rundir.SHARDS), run_dir))
    return sorted(found, key=rundir.shard_of_folder)


def _distinct(run_dir, folders):
    """Refuse a folder given twice (under any spelling or link) and the run
    folder among the shards, before any lock is taken: each is locked once,
    so a lock this merge holds is never reported as another process's."""
    run_key, seen = _same(run_dir), {}
    for folder in folders:
        key = _same(folder)
        if key == run_key:
            raise UserError('{} is the run folder {} itself, not one of its shards; pass the '
                            'shard folders ({}/K-of-N) with --shards'.format(
                                folder, run_dir, os.path.join(run_dir, rundir.SHARDS)))
        if key in seen:
            raise UserError('{} given twice (also as {}): the same shard folder; pass each '
                            'shard folder once'.format(folder, seen[key]))
        seen[key] = folder


def _same(folder):
    """What makes two paths one folder: its device and inode (its real
    path when it does not exist)."""
    try:
        found = os.stat(folder)
    except OSError:
        return 'path', os.path.realpath(folder)
    return 'inode', found.st_dev, found.st_ino


def _lock_shards(stack, folders):
    """Hold the lock of every shard folder: one that has a lock file or
    ``raw/shard.json`` (a folder that has neither is not a shard, and reading
    it says so)."""
    for folder in folders:
        if any(os.path.lexists(path) for path in (os.path.join(folder, rundir.LOCK),
                                                   rundir.raw_path(folder, rundir.SHARD))):
            stack.enter_context(RunLock(
                folder, COMMAND, fix='a shard is merged once it has ended: wait for it, then '
                                     'merge again'))


def merge(run_dir, folders, given=None, scoring=True):
    """Merge the shard ``folders`` into ``run_dir`` (the caller holds the
    lock of ``run_dir``).

    Args:
        given: the scoring options given to the merge (:func:`options.given`);
            the shards' own values of those are neither compared nor used.
        scoring: whether the merged run will be scored: then the scoring
            options taken from the shards are checked too, before anything is
            written.

    Returns:
        ``(meta, problems)``: the merged :class:`compare.rundir.RunMeta`, and
        what the run was asked but did not do, as :func:`compare.runner.cli.run`
        says it (:func:`compare.runner.command.problems_of`: a detector that failed
        in some shard, no readable image).

    Raises:
        UserError: the shards do not make one run (:mod:`compare.shards.check`),
            one is still running, a scoring option taken from them cannot
            score, or ``run_dir`` holds an unsharded run; nothing is written.
    """
    given = given or {}
    with contextlib.ExitStack() as stack:
        _lock_shards(stack, folders)
        ordered = check([read_shard(folder) for folder in folders], set(given))
        if scoring:
            options.check_shards(ordered[0].meta.args, given, ordered[0].label)
        previous = rundir.read_meta(run_dir)
        if previous is not None and 'merged_from' not in previous.args:
            raise UserError('{} holds the results of an unsharded run; merge into another '
                            'folder (--shards DIR ... with another RUN)'.format(run_dir))
        return _write(run_dir, ordered, given)


def _write(run_dir, ordered, given):
    """RUN's ``raw/`` and ``meta.json`` from the checked shards ``ordered``;
    returns ``(meta, problems)`` (:func:`merge`)."""
    os.makedirs(os.path.join(run_dir, rundir.RAW), exist_ok=True)
    _clear(run_dir)
    rundir.write_readme(run_dir)
    listing = shard.interleave([one.info['images'] for one in ordered])
    position = {image: i for i, image in enumerate(listing)}
    for name in [entry.name for entry in ordered[0].meta.detectors]:
        loaded = [one for one in ordered if name in one.records]
        if not loaded:
            continue
        rundir.write_records(rundir.records_file(run_dir, name), sorted(
            (r for one in loaded for r in one.records[name]), key=lambda r: position[r.image]))
        rundir.write_identity(run_dir, name, loaded[0].identities[name])
        for one in loaded:
            _copy_netout(one.folder, run_dir, name)
    skipped = sorted({row for one in ordered for row in rundir.read_skipped(one.folder)})
    rundir.write_skipped(run_dir, skipped)
    first = ordered[0]
    timings = rundir.read_timings(first.folder)
    rundir.write_timings(run_dir, timings)
    rundir.write_benchmarks(run_dir, rundir.read_benchmarks(first.folder) if timings else None)
    _merge_errors(ordered, run_dir)
    meta = _merged_meta(ordered, run_dir, listing, given)
    rundir.write_meta(run_dir, meta)
    readable = len(listing) - len({image for image, _ in skipped if image in position})
    return meta, command.problems_of({e.name: e.status for e in meta.detectors}, readable,
                             meta.images.folder)


def _clear(run_dir):
    """Remove what an earlier merge wrote under raw/ (the shards still hold it)."""
    for pattern in rundir.detector_files(run_dir):
        for path in glob.glob(pattern):
            os.remove(path)
    netout = rundir.raw_path(run_dir, rundir.NETOUT)
    if os.path.isdir(netout) and not os.path.islink(netout):
        # only the .npz files a run writes, folder by folder: anything else stays
        for name in sorted(os.listdir(netout)):
            rundir.remove_netout(run_dir, name)
        with contextlib.suppress(OSError):
            os.rmdir(netout)  # when that left it empty
    elif os.path.lexists(netout):
        os.remove(netout)  # a link or a file in its place: the entry, not a target


def _copy_netout(folder, run_dir, name):
    """The kept network outputs of detector ``name`` in shard ``folder``."""
    # the merge copies only what the shard run wrote: regular files
    for file_name, path in rundir.kept_files(folder, name):
        target = rundir.kept_path(run_dir, name, file_name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            os.link(path, target)  # fails on an existing entry, link or not
        except OSError:
            # a new file renamed into place: never written through a link
            files.write_bytes(target, files.read_file(path))


def _merge_errors(ordered, run_dir):
    """``raw/<detector>.error.txt`` of each detector that failed in some
    shard with a traceback: the shards' texts, each headed by its shard."""
    found = {}
    for one in ordered:
        for entry in one.meta.detectors:
            path = rundir.error_file(one.folder, entry.name)
            if entry.status == 'ok' or not os.path.isfile(path):
                continue
            with open(path, encoding='utf-8', errors='replace') as f:
                found.setdefault(entry.name, []).append('== {} ==\n{}'.format(one.label,
                                                                               f.read()))
    for name, texts in found.items():
        rundir.write_error(run_dir, name, '\n'.join(texts))


def _merged_meta(ordered, run_dir, listing, given):
    """meta.json of the merged run: shard 1's, with every shard's counts and
    statuses (a detector loaded if it loaded in some shard, failed if it
    failed in one), and the scoring options ``given`` to the merge."""
    first = ordered[0].meta
    entries = []
    for entry in first.detectors:
        mine = [(one, one.meta.entry(entry.name)) for one in ordered]
        loaded = [e for _, e in mine if e.loaded]
        base = next((e for e in loaded if e.status == 'ok'), loaded[0] if loaded else entry)
        failed = [(one, e) for one, e in mine if e.status != 'ok']
        status = 'ok'
        if failed:
            status = 'failed: shard {}/{}: {}{}'.format(
                failed[0][0].info['k'], failed[0][0].info['n'],
                failed[0][1].status.split('failed: ', 1)[-1],
                ' (and in {} other shard(s))'.format(len(failed) - 1) if len(failed) > 1
                else '')
        entries.append(dataclasses.replace(
            base, status=status, loaded=bool(loaded),
            images_done=sum(e.images_done or 0 for e in loaded),
            images_new=sum(e.images_new or 0 for e in loaded)))
    images = rundir.ImagesInfo(first.images.folder, from_run(images_folder(ordered), run_dir),
                               len(listing), first.images.not_images)
    args = dict(first.args, out=display_path(run_dir), shard=None,
                merged_from=[display_path(one.folder) for one in ordered],
                **options.recorded(given))
    return rundir.RunMeta(first.provenance, args, images, 'complete', tuple(entries))


def scoring_options(meta, annotations=None, score_thresh=None, box_convention=None, iou=None,
                    coco_evaluator=None, pair=None):
    """The scoring options: those given, else those the shards were run with
    (``pair``: None lets scoring take the run's own pairs from meta.json)."""
    pick = lambda given, key: given if given is not None else meta.args.get(key)  # noqa: E731
    options = {'annotations': pick(annotations, 'annotations'),
               'box_convention': pick(box_convention, 'box_convention'),
               'iou': pick(iou, 'iou'), 'coco_evaluator': pick(coco_evaluator, 'coco_evaluator'),
               'pair': pair}
    thresh = pick(score_thresh, 'score_thresh')
    if thresh is not None:
        options['score_thresh'] = thresh
    return options


def merge_and_score(run_dir, folders, no_score=False, log=print, **scoring):
    """:func:`merge`, then scoring unless ``no_score``, holding the lock of
    ``run_dir`` throughout.

    Returns:
        ``(problems, headline)``: see :func:`merge`, and the headline lines
        of the scoring (empty with ``no_score``).

    Raises:
        UserError: a scoring option that cannot score, a folder given twice
            (:func:`_distinct`), or any refusal of :func:`merge`, before
            anything is written.
    """
    given = options.given(scoring)
    _distinct(run_dir, folders)
    check_out(run_dir)  # RUN: missing, empty or a run folder of ours, no links where we write
    created = not os.path.lexists(run_dir)
    try:
        os.makedirs(run_dir, exist_ok=True)
    except OSError as exc:
        raise UserError('cannot create the run folder {}: {}; pass a writable RUN'.format(
            run_dir, exc.strerror)) from None
    try:
        return _locked(run_dir, folders, no_score, log, given)
    except BaseException:
        if created:  # a refused merge leaves no trace: the folder it made, if still empty
            with contextlib.suppress(OSError):
                os.rmdir(run_dir)
        raise


def _locked(run_dir, folders, no_score, log, given):
    """:func:`merge_and_score` once ``run_dir`` exists."""
    with RunLock(run_dir, COMMAND, fix='wait for it to end (a run, merge or scoring of that '
                                       'folder)'):
        meta, problems = merge(run_dir, folders, given, scoring=not no_score)
        failed = [e.name for e in meta.detectors if e.status != 'ok']
        log('merged {} shards into {} ({} images){}'.format(
            len(folders), run_dir, meta.images.listed,
            '; failed: ' + ', '.join(failed) if failed else ''))
        if no_score:
            return problems, []
        tables = score_run(run_dir, log=log, **scoring_options(meta, **given))
        log('scored: {}'.format(run_dir))
        return problems, headline_lines(tables, os.path.join(run_dir, rundir.REPORT))


def parser():
    p = argparse.ArgumentParser(prog='python -m compare.merge', description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('run_dir', metavar='RUN', help='the run folder to write (the --out of the '
                                                  'shards)')
    p.add_argument('--shards', nargs='+', metavar='DIR',
                   help='the shard folders (default: RUN/shards/K-of-N)')
    p.add_argument('--no-score', action='store_true', help='write meta.json and raw/ only')
    scoring = argparse.ArgumentParser(add_help=False)
    add_scoring_options(scoring)
    group = p.add_argument_group('scoring (each defaults to what the shards were run with)')
    for action in scoring._actions:
        repeatable = {'action': 'append'} if isinstance(action, argparse._AppendAction) else {}
        group.add_argument(*action.option_strings, dest=action.dest, default=None,
                           choices=action.choices, type=action.type, metavar=action.metavar,
                           help=re.sub(r' ?\(default: %\(default\)s\)', '', action.help),
                           **repeatable)
    return p


def main(argv=None):
    """The command; returns the exit status (module docstring)."""
    args = parser().parse_args(argv)
    result, code = command.call(lambda: merge_and_score(
        args.run_dir, shard_folders(args.run_dir, args.shards), args.no_score, log,
        annotations=args.annotations, score_thresh=args.score_thresh,
        box_convention=args.box_convention, iou=args.iou,
        coco_evaluator=args.coco_evaluator, pair=args.pair), log,
        'interrupted: run the same command again (the shards are left as they are)')
    return code if result is None else command.finish(args.run_dir, *result, log)


def log(message):
    print(message, file=sys.stderr, flush=True)
