"""``python -m compare.merge RUN [--shards DIR ...]``: N shards -> one run folder.

The shards are ``RUN/shards/K-of-N`` (written by ``compare/run.py ... --shard
K/N``; copy them there from other machines, or name them with ``--shards``).
They are merged only when they belong to one run, else a one-line error says
which shard and why:

- every K from 1 to N present exactly once, all with the same N;
- each complete (``meta.json`` state ``complete``): an unfinished shard is
  named with the command that finishes it;
- the same listing of the images folder (``raw/shard.json``'s
  ``listing_sha256``, ``listed_total``), each holding exactly its slice, the
  slices together the whole sorted list (:func:`compare.shard.interleave`);
- the same detectors, in the same order, each with the same identity (name,
  weights, declared randomness, vocabulary, settings: :func:`identity`), and
  the same code and library versions (provenance ``commit``, ``version.*``);
- every record of a shard an image of its own slice, so no image is counted
  twice.

Then RUN is written as an unsharded run would write it: ``raw/<detector>.jsonl``
(the shards' records, in the order of the whole list), ``raw/skipped.csv``
(their union), ``raw/timings.csv`` and ``raw/benchmark.csv`` (shard 1's),
``raw/netout/`` and ``raw/<detector>.error.txt`` (the shards', the latter
headed by its shard), ``raw/README.md`` and ``meta.json`` (shard 1's, with the
images, counts and statuses of all shards, ``args.out`` the merged folder and
``args.merged_from`` the shard folders). Nothing is taken from the shards:
they stay as they are, so a merge can be redone. RUN is then scored as
``python -m compare.score RUN`` would (scoring options default to those the
shards were run with).
"""
import argparse
import dataclasses
import glob
import os
import re
import shutil
import sys

from compare import rundir, shard
from compare.errors import EXIT_USER_ERROR, UserError
from compare.paths import display_path, from_run

#: ``info`` keys that say where things are or how fast they go, not what a
#: detector outputs (left out of :func:`identity`).
NOT_IDENTITY = ('weights_path', 'label_map', 'origin', 'weights_choice', 'delay')

DESCRIPTION = '''\
Merge the shards of a run (compare/run.py IMAGES --out RUN --shard K/N, for K
= 1..N) into the run folder RUN, then score it. The shards are RUN/shards/K-of-N
unless --shards names them. They must be complete, of the same images listing,
detectors and versions, each holding exactly its slice.'''


@dataclasses.dataclass
class Shard:
    """One shard folder as read: ``folder``, ``meta`` (:class:`rundir.RunMeta`),
    ``info`` (raw/shard.json) and ``records`` (``{detector: [ImageRecord]}``)."""
    folder: str
    meta: rundir.RunMeta
    info: dict
    records: dict

    @property
    def label(self):
        return 'shard {}/{} ({})'.format(self.info['k'], self.info['n'], self.folder)


def identity(entry):
    """What must be equal for two shards' outputs of a detector to be merged."""
    settings = {key: value for key, value in entry.info.items() if key not in NOT_IDENTITY}
    return {'weights': entry.weights_sha256 or entry.weights,
            'random_weights': bool(entry.random_weights),
            'label_names': [str(name) for name in entry.label_names], 'settings': settings}


def shard_folders(run_dir, given=None):
    """The folders to merge: ``given``, else ``RUN/shards/*-of-*`` (sorted by K)."""
    if given:
        return list(given)
    found = [path for path in glob.glob(os.path.join(run_dir, shard.SHARDS, '*'))
             if shard.folder_shard(path) is not None]
    if not found:
        raise UserError('{} has no shard folders ({}/K-of-N); run `python compare/run.py '
                        'IMAGES --out {} --shard K/N` for K = 1..N first, or pass the shard '
                        'folders with --shards'.format(run_dir, os.path.join(
                            run_dir, shard.SHARDS), run_dir))
    return sorted(found, key=shard.folder_shard)


def read_shard(folder):
    """A :class:`Shard`, or UserError saying why ``folder`` is not a mergeable shard."""
    meta = rundir.read_meta(folder) if os.path.isdir(folder) else None
    info = rundir.read_shard(folder) if meta is not None else None
    if info is None:
        raise UserError('{} is not a shard folder (no meta.json and raw/shard.json); pass the '
                        'folders written by compare/run.py --shard K/N'.format(folder))
    if meta.state != 'complete':
        raise UserError('shard {}/{} ({}) is {}: finish it with its command (`python '
                        'compare/run.py {} --out {} --shard {}/{}`: its finished images are '
                        'kept), then merge again'.format(
                            info['k'], info['n'], folder, meta.state,
                            meta.args.get('images'), meta.args.get('out'), info['k'], info['n']))
    records = {}
    for path in sorted(glob.glob(rundir.records_file(folder, '*'))):
        name = os.path.basename(path)[:-len('.jsonl')]
        records[name], partial = rundir.read_records(path)
        if partial:
            raise UserError('{} ends with a partial record; rerun shard {}/{} to finish it'
                            .format(path, info['k'], info['n']))
    return Shard(folder, meta, info, records)


def check(shards):
    """Every rule of the module docstring; returns the shards sorted by K."""
    n = shards[0].info['n']
    by_k = {}
    for one in shards:
        if one.info['n'] != n:
            raise UserError('{} is one of {} shards, {} one of {}: merge shards of one run '
                            '(same N: pass them with --shards, or delete the other N\'s '
                            'folders)'.format(one.label, one.info['n'], shards[0].label, n))
        if one.info['k'] in by_k:
            raise UserError('shard {}/{} given twice: {} and {}; pass each shard once'.format(
                one.info['k'], n, by_k[one.info['k']].folder, one.folder))
        by_k[one.info['k']] = one
    missing = [k for k in range(1, n + 1) if k not in by_k]
    if missing:
        args = shards[0].meta.args
        raise UserError('shard {} missing (have {}): run `python compare/run.py {} --out {} '
                        '--shard {}/{}` (same options) and merge again'.format(
                            ', '.join('{}/{}'.format(k, n) for k in missing),
                            ', '.join('{}/{}'.format(k, n) for k in sorted(by_k)),
                            args.get('images'), args.get('out'), missing[0], n))
    ordered = [by_k[k] for k in range(1, n + 1)]
    _check_listing(ordered)
    _check_detectors(ordered)
    _check_versions(ordered)
    _check_records(ordered)
    return ordered


def _check_listing(ordered):
    first = ordered[0]
    for one in ordered[1:]:
        for key in ('listing_sha256', 'listed_total'):
            if one.info[key] != first.info[key]:
                raise UserError('{} listed other images than {} ({} differs: a file added, '
                                'removed or changed in between); rerun it over the same '
                                'images'.format(one.label, first.label, key))
    listing = shard.interleave([one.info['images'] for one in ordered])
    if (len(listing) != first.info['listed_total'] or listing != sorted(set(listing))
            or any(one.info['images'] != shard.select(listing, one.info['k'], one.info['n'])
                   for one in ordered)):
        raise UserError('the slices of {} do not make up the listing of {} images they '
                        'name; rerun the shards with --force'.format(
                            ', '.join(one.folder for one in ordered),
                            first.info['listed_total']))


def _check_detectors(ordered):
    first = ordered[0]
    names = [entry.name for entry in first.meta.detectors]
    for one in ordered[1:]:
        other = [entry.name for entry in one.meta.detectors]
        if other != names:
            raise UserError('{} ran detectors {}, {} ran {}: run every shard with the same '
                            '--detector specs'.format(one.label, ', '.join(other), first.label,
                                                      ', '.join(names)))
    for name in names:
        entries = [(one, one.meta.entry(name)) for one in ordered
                   if one.meta.entry(name).status == 'ok' or one.records.get(name)]
        for one, entry in entries[1:]:
            base, base_entry = entries[0]
            if identity(entry) != identity(base_entry):
                differ = sorted(key for key, value in identity(entry).items()
                                if identity(base_entry)[key] != value)
                raise UserError('detector {} of {} is not the one of {} ({} differ): run every '
                                'shard with the same weights and settings'.format(
                                    name, one.label, base.label, ', '.join(differ)))


def _check_versions(ordered):
    def versions(one):
        return {key: value for key, value in one.meta.provenance.items()
                if key == 'commit' or key.startswith('version.')}
    first = versions(ordered[0])
    for one in ordered[1:]:
        mine = versions(one)
        differ = sorted(key for key in set(first) | set(mine)
                        if first.get(key) != mine.get(key) and 'not loaded' not in
                        (first.get(key), mine.get(key)))
        if differ:
            raise UserError('{} ran other code or libraries than {} ({} differ): run every '
                            'shard from the same checkout and environment'.format(
                                one.label, ordered[0].label, ', '.join(differ)))


def _check_records(ordered):
    for one in ordered:
        mine = set(one.info['images'])
        for name, records in one.records.items():
            stray = [r.image for r in records if r.image not in mine]
            if stray:
                raise UserError('{} holds image {} of another shard (in {}); rerun it with '
                                '--force'.format(one.label, stray[0],
                                                 rundir.records_file(one.folder, name)))


def merge(run_dir, folders):
    """Merge the shard ``folders`` into ``run_dir``; returns the merged
    :class:`compare.rundir.RunMeta`.

    Raises:
        UserError: the shards do not make one run (module docstring), or
            ``run_dir`` holds an unsharded run.
    """
    ordered = check([read_shard(folder) for folder in folders])
    previous = rundir.read_meta(run_dir) if os.path.isdir(run_dir) else None
    if previous is not None and 'merged_from' not in previous.args:
        raise UserError('{} holds the results of an unsharded run; merge into another folder '
                        '(--shards DIR ... with another RUN)'.format(run_dir))
    os.makedirs(os.path.join(run_dir, rundir.RAW), exist_ok=True)
    _clear(run_dir)
    rundir.write_readme(run_dir)
    listing = shard.interleave([one.info['images'] for one in ordered])
    position = {image: i for i, image in enumerate(listing)}
    names = sorted({name for one in ordered for name in one.records})
    for name in names:
        records = sorted((r for one in ordered for r in one.records.get(name, ())),
                         key=lambda r: position[r.image])
        _write_records(rundir.records_file(run_dir, name), records)
    rundir.write_skipped(run_dir, sorted({row for one in ordered
                                          for row in rundir.read_skipped(one.folder)}))
    first = ordered[0]
    timings = rundir.read_timings(first.folder)
    rundir.write_timings(run_dir, timings)
    rundir.write_benchmarks(run_dir, rundir.read_benchmarks(first.folder) if timings else None)
    for one in ordered:
        _copy_netout(one.folder, run_dir)
    _merge_errors(ordered, run_dir)
    meta = _merged_meta(ordered, run_dir, listing)
    rundir.write_meta(run_dir, meta)
    return meta


def _clear(run_dir):
    """Remove what an earlier merge wrote under raw/ (the shards still hold it)."""
    for path in glob.glob(rundir.records_file(run_dir, '*')) + glob.glob(
            rundir.raw_path(run_dir, '*.error.txt')):
        os.remove(path)
    netout = rundir.raw_path(run_dir, rundir.NETOUT)
    if os.path.isdir(netout):
        shutil.rmtree(netout)


def _write_records(path, records):
    partial = path + '.part'
    with open(partial, 'w', encoding='utf-8') as f:
        f.writelines(record.to_json() + '\n' for record in records)
    os.replace(partial, path)


def _copy_netout(folder, run_dir):
    source = rundir.raw_path(folder, rundir.NETOUT)
    for path in sorted(glob.glob(os.path.join(source, '*', '*.npz'))):
        target = rundir.raw_path(run_dir, os.path.relpath(path, rundir.raw_path(folder, '')))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)


def _merge_errors(ordered, run_dir):
    found = {}
    for one in ordered:
        for path in sorted(glob.glob(rundir.raw_path(one.folder, '*.error.txt'))):
            with open(path, encoding='utf-8', errors='replace') as f:
                found.setdefault(os.path.basename(path)[:-len('.error.txt')], []).append(
                    '== {} ==\n{}'.format(one.label, f.read()))
    for name, texts in found.items():
        rundir.write_error(run_dir, name, '\n'.join(texts))


def _merged_meta(ordered, run_dir, listing):
    first = ordered[0].meta
    entries = []
    for entry in first.detectors:
        mine = [(one, one.meta.entry(entry.name)) for one in ordered]
        base = next((e for _, e in mine if e.status == 'ok'), entry)
        failed = [(one, e) for one, e in mine if e.status != 'ok']
        status = 'ok' if not failed else 'failed: shard {}/{}: {}'.format(
            failed[0][0].info['k'], failed[0][0].info['n'],
            failed[0][1].status.split('failed: ', 1)[-1])
        entries.append(dataclasses.replace(
            base, status=status, images_done=sum(e.images_done or 0 for _, e in mine),
            images_new=sum(e.images_new or 0 for _, e in mine)))
    images_dir = os.path.normpath(os.path.join(ordered[0].folder, first.images.folder_from_run))
    images = rundir.ImagesInfo(first.images.folder, from_run(images_dir, run_dir), len(listing),
                               first.images.not_images)
    args = dict(first.args, out=display_path(run_dir), shard=None,
                merged_from=[display_path(one.folder) for one in ordered])
    return rundir.RunMeta(first.provenance, args, images, 'complete', tuple(entries))


def scoring_options(meta, annotations=None, score_thresh=None, box_convention=None):
    """The scoring options: those given, else those the shards were run with."""
    pick = lambda given, key: given if given is not None else meta.args.get(key)  # noqa: E731
    options = {'annotations': pick(annotations, 'annotations'),
               'box_convention': pick(box_convention, 'box_convention')}
    thresh = pick(score_thresh, 'score_thresh')
    if thresh is not None:
        options['score_thresh'] = thresh
    return options


def merge_and_score(run_dir, folders, no_score=False, log=print, **scoring):
    """:func:`merge`, then scoring unless ``no_score``; returns the headline lines."""
    meta = merge(run_dir, folders)
    failed = [e.name for e in meta.detectors if e.status != 'ok']
    log('merged {} shards into {} ({} images){}'.format(
        len(folders), run_dir, meta.images.listed,
        '; failed: ' + ', '.join(failed) if failed else ''))
    if no_score:
        return []
    from compare.score import score_run
    from compare.score.headline import headline_lines
    tables = score_run(run_dir, **scoring_options(meta, **scoring))
    log('scored: {}'.format(run_dir))
    return headline_lines(tables['headline'], os.path.join(run_dir, rundir.REPORT))


def parser():
    from compare.score.__main__ import add_scoring_options
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
        group.add_argument(*action.option_strings, dest=action.dest, default=None,
                           choices=action.choices, type=action.type, metavar=action.metavar,
                           help=re.sub(r' ?\(default: %\(default\)s\)', '', action.help))
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        headline = merge_and_score(
            args.run_dir, shard_folders(args.run_dir, args.shards), args.no_score, log,
            annotations=args.annotations, score_thresh=args.score_thresh,
            box_convention=args.box_convention)
    except UserError as exc:
        log('error: {}'.format(' '.join(str(exc).split())))
        return EXIT_USER_ERROR
    if headline:
        log('\n'.join(['', 'HEADLINE'] + headline))
    return 0


if __name__ == '__main__':
    sys.exit(main())
