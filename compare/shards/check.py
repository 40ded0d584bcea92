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
- the same settings that change the merged run's results without being part
  of a detector's identity: the scoring options recorded in ``meta.json``'s
  ``args`` (:data:`SETTINGS`: ``--score-thresh``, ``--annotations``, ...),
  which the merge scores with; a setting the merge is given itself
  (``given``) replaces the shards' and is not compared;
- every record of a shard is of an image of its own slice (no image counted
  twice) and carries the sha256 of the image file it came from;
- as a resume checks (:mod:`compare.runner.resume`), every record's sha256 is
  that of its image file NOW, in the images folder of the merged run (shard
  1's): an image rewritten after its shard ran, removed, or a record whose
  sha256 was altered, is refused, naming the image and the shard to rerun
  (rerunning it runs that image again); and the listing's fingerprint is
  that of the folder now (a listed file resized or removed since, even one
  no detector could read: every shard reruns, each keeping its unchanged
  images).

As in :func:`compare.rundir.read_run`, a detector's records are read only
from the shards where it loaded in their last run: the ``.jsonl`` of a shard
where it failed to load (or of a detector the shard did not run) is left from
an earlier run and is not merged.
"""
import argparse
import dataclasses
import os

from compare import rundir
from compare.errors import UserError
from compare.images import image_sha256
from compare.limits import MAX_SHARDS
from compare.rundir.identity import differences
from compare.runner import shard
from compare.runner.scoring import add_scoring_options
from replicate.errors import one_line

#: How a shard that did not complete ended, by its meta.json state.
_UNFINISHED = {
    'running': 'did not finish (meta.json says running: it was killed, or is still running '
               'on another machine)',
    'interrupted': 'was interrupted',
    'failed': 'was stopped by an error',
}


def _settings():
    """``(args key, option)`` of every scoring option (those of
    :func:`compare.runner.scoring.add_scoring_options`, which every shard
    records in meta.json's ``args``)."""
    options = argparse.ArgumentParser(add_help=False)
    add_scoring_options(options)
    return tuple((action.dest, action.option_strings[0]) for action in options._actions)


#: The settings the shards must agree on, beyond their detectors' identities
#: (which hold every setting that changes a detector's outputs: weights,
#: preset, --common-nms parameters...): ``(meta.json args key, option)``.
SETTINGS = _settings()


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
    if not 1 <= info['k'] <= info['n'] <= MAX_SHARDS:
        raise UserError('{} names shard {}/{}: not a shard of this harness (1 <= K <= N <= {}); '
                        'rerun that shard with --force'.format(
                            rundir.raw_path(folder, rundir.SHARD), str(info['k'])[:20],
                            str(info['n'])[:20], MAX_SHARDS))
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


def check(shards, given=()):
    """Every rule of the module docstring; returns the shards sorted by K.

    Args:
        shards: :class:`Shard` list, in any order.
        given: the ``args`` keys of :data:`SETTINGS` the merge sets itself
            (the shards' own values of those are not compared).
    """
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
    _check_settings(ordered, given)
    _check_records(ordered)
    _check_images(ordered)
    return ordered


def images_folder(ordered):
    """The images folder of the merged run: shard 1's
    (:meth:`compare.rundir.RunMeta.images_dir`)."""
    return ordered[0].meta.images_dir(ordered[0].folder)


def _check_listing(ordered):
    first = ordered[0]
    for one in ordered[1:]:
        for key in ('listing_sha256', 'listed_total'):
            if one.info[key] != first.info[key]:
                raise UserError('{} listed other images than {} ({} differs: a file added, '
                                'removed or changed in between); rerun every shard over the '
                                'images as they are now, {} (each keeps its unchanged images), '
                                'then merge again'.format(one.label, first.label, key,
                                                          every_command(first)))
    total = first.info['listed_total']
    # each slice as long as its positions of the listing, so interleave() can run
    sized = all(len(one.info['images']) == len(range(one.info['k'] - 1, total, one.info['n']))
                for one in ordered)
    listing = shard.interleave([one.info['images'] for one in ordered]) if sized else None
    if (not sized or len(listing) != total or listing != sorted(set(listing))
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


def _check_settings(ordered, given):
    first = ordered[0]
    for key, option in SETTINGS:
        if key in given:
            continue
        for one in ordered[1:]:
            mine, theirs = one.meta.args.get(key), first.meta.args.get(key)
            if mine != theirs:
                raise UserError(
                    '{} ran {}, {} {}: the merge scores the shards as one run, with one '
                    'setting; rerun {} as {} but {} (nothing is run again: its records are '
                    'kept), or pass {} to the merge'.format(
                        one.label, _ran(option, mine), first.label, _ran(option, theirs),
                        'shard {}/{}'.format(one.info['k'], one.info['n']), one.command(),
                        _ran(option, theirs), option))


def _ran(option, value):
    """``'with --score-thresh 0.3'`` or ``'without --annotations'`` (a value
    quoted up to 80 characters)."""
    if value is None:
        return 'without ' + option
    text = ' '.join(map(str, value)) if isinstance(value, list) else str(value)
    return 'with {} {}'.format(option, text if len(text) <= 80 else text[:80] + '...')


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


def _check_images(ordered):
    """Every record's sha256 against its image file now (a resume's check),
    each image read once however many detectors recorded it; then the
    listing's fingerprint (paths and sizes) against the folder now."""
    folder = images_folder(ordered)
    if not os.path.isdir(folder):
        raise UserError('the images folder {} of {} is not there: the merge checks every '
                        'record against its image file, as a resume does; merge where that '
                        'folder is (at the path the shard ran with, or the same path '
                        'relative to the shard folder)'.format(folder, ordered[0].label))
    listing = shard.interleave([one.info['images'] for one in ordered])
    # a file resized or removed changes the listing every shard holds: all rerun
    relisted = shard.listing_sha256(folder, listing) != ordered[0].info['listing_sha256']
    now = {}
    for one in ordered:
        for name, records in one.records.items():
            path = rundir.records_file(one.folder, name)
            for record in records:
                if record.image not in now:
                    now[record.image] = _fingerprint(folder, record.image)
                found, why = now[record.image]
                if found is not None and record.sha256 == found:
                    continue
                fix = ('rerun every shard over the images as they are now (each keeps its '
                       'unchanged images; shard {}/{} runs that one again), {}'.format(
                           one.info['k'], one.info['n'], every_command(ordered[0]))
                       if relisted else 'rerun that shard (it runs that image again), {}'
                       .format(one.command()))
                what = ('cannot be read now ({}): it was removed or replaced since that shard '
                        'ran'.format(why) if found is None else
                        'is not of that file now (sha256 {} recorded, {} now): the image was '
                        'rewritten since that shard ran, or the record altered'.format(
                            str(record.sha256)[:12], found[:12]))
                raise UserError('{}: the record of {} (in {}) {}; {}, then merge again'.format(
                    os.path.join(folder, record.image), one.label, path, what, fix))
    if relisted:
        raise UserError('{}: a file the shards listed was resized or removed since they ran '
                        '(the listing_sha256 of their raw/shard.json differs now); rerun every '
                        'shard over the images as they are now, {} (each keeps its unchanged '
                        'images), then merge again'.format(folder, every_command(ordered[0])))


def every_command(one):
    """The commands that (re)run every shard of ``one``'s run."""
    return '`python compare/run.py {} --out {} --shard K/{}` for K = 1..{} (same options)'.format(
        one.meta.args.get('images'), one.meta.args.get('out'), one.info['n'], one.info['n'])


def _fingerprint(folder, image):
    """``(sha256, None)`` of ``folder/image``, or ``(None, why not)``; an
    image name that leaves the folder is not read."""
    parts = image.split('/')
    if os.path.isabs(image) or any(part in ('', '.', '..') for part in parts):
        return None, 'a name outside the images folder'
    try:
        return image_sha256(os.path.join(folder, *parts)), None
    except UserError as exc:
        return None, one_line(exc)
