"""Whether N shard folders make one run; :mod:`compare.shards.merge` merges them only then.

A shard folder is ``RUN/shards/K-of-N`` (``compare/run.py ... --shard K/N``:
:mod:`compare.runner.shard`). The shards belong to one run when all of these hold,
else a one-line error names the shard, why, and the command that fixes it:

- every K from 1 to N present exactly once, all with the same N;
- each ended complete (``meta.json`` state ``complete``): a shard that was
  interrupted, killed or stopped by an error is named with its command
  (rerunning it resumes: its finished images are kept);
- the same listing of the images folder (``raw/shard.json``'s
  ``listing_sha256``: each image's path and size; ``listed_total``), each
  holding exactly its slice, the slices together the whole sorted list
  (:func:`compare.runner.shard.interleave`);
- the same detectors in the same order; every shard that LOADED a detector
  wrote its records with the same identity (``raw/<detector>.identity.json``,
  :mod:`compare.rundir.identity`: weights, vocabulary, declared randomness,
  settings), and a loaded detector has one;
- the same code and library versions (provenance ``commit``, ``version.*``);
- every record of a shard is of an image of its own slice (no image counted
  twice) and carries the sha256 of the image file it came from.

As in :func:`compare.rundir.read_run`, a detector's records are read only
from the shards where it loaded in their last run: the ``.jsonl`` of a shard
where it failed to load (or of a detector the shard did not run) is left from
an earlier run and is not merged.
"""
import dataclasses
import os

from compare import rundir
from compare.errors import UserError
from compare.rundir.identity import differences
from compare.runner import shard

#: How a shard that did not complete ended, by its meta.json state.
_UNFINISHED = {
    'running': 'did not finish (meta.json says running: it was killed, or is still running '
               'on another machine)',
    'interrupted': 'was interrupted',
    'failed': 'was stopped by an error',
}


@dataclasses.dataclass
class Shard:
    """One shard folder as read.

    Attributes:
        folder: its path.
        meta: its :class:`compare.rundir.RunMeta`.
        info: its ``raw/shard.json`` (:func:`compare.rundir.read_shard`).
        records: ``{detector: [ImageRecord]}`` of the detectors it loaded.
        identities: ``{detector: identity dict}`` of the same detectors.
    """
    folder: str
    meta: rundir.RunMeta
    info: dict
    records: dict
    identities: dict

    @property
    def label(self):
        return 'shard {}/{} ({})'.format(self.info['k'], self.info['n'], self.folder)

    def command(self):
        """The command that (re)runs this shard."""
        return '`python compare/run.py {} --out {} --shard {}/{}` (same options)'.format(
            self.meta.args.get('images'), self.meta.args.get('out'), self.info['k'],
            self.info['n'])


def read_shard(folder):
    """A :class:`Shard`, or UserError saying why ``folder`` is not a mergeable shard."""
    meta = rundir.read_meta(folder) if os.path.isdir(folder) else None
    info = rundir.read_shard(folder) if meta is not None else None
    if info is None:
        raise UserError('{} is not a shard folder (no meta.json and raw/shard.json); pass the '
                        'folders written by compare/run.py --shard K/N'.format(folder))
    one = Shard(folder, meta, info, {}, {})
    if meta.state != 'complete':
        raise UserError('{} {}: finish it with its command, {} (its finished images are '
                        'kept), then merge again'.format(
                            one.label, _UNFINISHED.get(meta.state, meta.state), one.command()))
    for entry in meta.detectors:
        if not entry.loaded:
            continue
        one.identities[entry.name] = rundir.read_identity(folder, entry.name)
        if one.identities[entry.name] is None:
            raise UserError('{} has no raw/{}.identity.json for its detector {} (written by an '
                            'older version): rerun it with --force, {}'.format(
                                one.label, entry.name, entry.name, one.command()))
        path = rundir.records_file(folder, entry.name)
        one.records[entry.name], partial = rundir.read_records(path)
        if partial:
            raise UserError('{} ends with a partial record; rerun {} to finish it, {}'.format(
                path, one.label, one.command()))
    return one


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
                                'images, {}'.format(one.label, first.label, key, one.command()))
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
        loaded = [one for one in ordered if name in one.identities]
        for one in loaded[1:]:
            differ = differences(loaded[0].identities[name], one.identities[name])
            if differ:
                raise UserError('detector {} of {} is not the one of {} ({} differ): run every '
                                'shard with the same weights and settings ({} with --force)'
                                .format(name, one.label, loaded[0].label, ', '.join(differ),
                                        one.command()))


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
            path = rundir.records_file(one.folder, name)
            stray = [r.image for r in records if r.image not in mine]
            if stray:
                raise UserError('{} holds image {} of another shard (in {}); rerun it with '
                                '--force, {}'.format(one.label, stray[0], path, one.command()))
            unknown = [r.image for r in records if r.sha256 is None]
            if unknown:
                raise UserError('{} holds a record without the image\'s sha256 ({} in {}: an '
                                'older format); rerun it, {}: that image is run again'.format(
                                    one.label, unknown[0], path, one.command()))
