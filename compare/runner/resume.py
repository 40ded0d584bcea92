"""What a run trusts of the run folder it resumes.

A saved record is resumed (its image not run again for its detector) only when
all of these hold; anything else is redone or refused, never reported as this
run's result:

- the folder: the run folder's ``meta.json`` names the same images folder
  (same real path) as this run; another folder is refused (pass another
  ``--out``, or ``--force``);
- the detector: ``raw/<detector>.identity.json`` equals the identity of the
  detector about to run (:mod:`compare.rundir.identity`: weights, vocabulary,
  settings); another identity, or records without one, are refused (pass
  ``--force`` to redo that detector);
- the image: the record's image is one of this run's images AND the record's
  ``sha256`` is the fingerprint of that file now. Records of images no
  longer in the folder, of files whose content changed, or without a
  fingerprint (an older format) are removed from the file, which is rewritten
  atomically, and the run says how many; changed images are run again. Their
  kept network outputs (``raw/netout/``) are removed with them.

``--force`` deletes the records, identity and kept network outputs of each
detector that LOADED in this run, just before it runs again; a detector that
failed to load keeps its files untouched (it is marked in meta.json, and
scoring leaves it out). A ``meta.json`` that cannot be read stops the run
unless ``--force`` is given, which replaces it.
"""
import os

from compare import rundir
from compare.errors import UserError
from compare.images import image_sha256
from compare.rundir.identity import differences, identity


def check_folder(run_dir, images_dir, force, log):
    """The run's ``meta.json`` before this run (None if absent, or unreadable
    with ``force``).

    Raises:
        UserError: an unreadable meta.json without ``force``; a run over
            another images folder without ``force``.
    """
    try:
        previous = rundir.read_meta(run_dir)
    except UserError:
        if not force:
            raise
        log('--force: {} could not be read; it is replaced'.format(
            os.path.join(run_dir, rundir.META)))
        return None
    if previous is None or force:
        return previous
    recorded = previous.images_dir(run_dir)
    if os.path.realpath(recorded) != os.path.realpath(images_dir):
        raise UserError('{} holds a run over the images folder {}, not {}: its saved results '
                        'are not of these images; pass another --out, or --force to redo this '
                        'run\'s detectors here'.format(run_dir, recorded, images_dir))
    return previous


def prepare(run_dir, adapters, statuses, images_dir, images, force, log):
    """Resume or restart the records of every loaded detector.

    Args:
        adapters: the run's adapters; only those with ``statuses[name] == 'ok'``
            are touched.
        images: this run's images (relative posix paths under ``images_dir``).

    Returns:
        ``{name: set of images whose saved record is trusted}`` for the loaded
        detectors.

    Raises:
        UserError: without ``force``, a detector whose saved records were
            written by another identity or have no identity (nothing is
            changed then).
    """
    os.makedirs(os.path.join(run_dir, rundir.RAW), exist_ok=True)
    loaded = [a for a in adapters if statuses[a.name] == 'ok']
    identities = {a.name: identity(a.info()) for a in loaded}
    if force:
        for name in identities:
            rundir.remove_detector(run_dir, name)
    else:
        _refuse_other_identities(run_dir, identities)
    fingerprints = _Fingerprints(images_dir, images)
    done = {}
    for name, current in identities.items():
        done[name] = _trusted(run_dir, name, fingerprints, log)
        rundir.write_identity(run_dir, name, current)
    return done


def _refuse_other_identities(run_dir, identities):
    problems = []
    for name, current in identities.items():
        path = rundir.records_file(run_dir, name)
        if os.path.lexists(path) and not os.path.isfile(path):
            raise UserError('{} is not a file; remove it, or pass another --out'.format(path))
        saved = rundir.read_identity(run_dir, name)
        if saved is None:
            if os.path.lexists(rundir.records_file(run_dir, name)):
                problems.append('{} (records without raw/{}.identity.json: written by an '
                                'older version or another tool)'.format(name, name))
            continue
        changed = differences(saved, current)
        if changed:
            problems.append('{} (written with other {})'.format(name, ', '.join(changed)))
    if problems:
        raise UserError('{} already holds results of {}; rerun with --force to redo them, or '
                        'pass another --out'.format(run_dir, '; '.join(problems)))


class _Fingerprints:
    """sha256 of this run's images, computed on first use (None: unreadable)."""

    def __init__(self, images_dir, images):
        self.images_dir, self.images, self.known = images_dir, set(images), {}

    def __call__(self, image):
        if image not in self.known:
            try:
                self.known[image] = image_sha256(os.path.join(self.images_dir, image))
            except UserError:
                self.known[image] = None
        return self.known[image]


def _trusted(run_dir, name, fingerprints, log):
    """The images of ``name``'s trusted records; the file keeps only those."""
    path = rundir.records_file(run_dir, name)
    records, _ = rundir.read_records(path, truncate=True)
    kept, dropped = [], {'no longer in the images folder': [], 'changed since': [],
                         'without a fingerprint (older format)': []}
    for record in records:
        if record.image not in fingerprints.images:
            dropped['no longer in the images folder'].append(record.image)
        elif record.sha256 is None:
            dropped['without a fingerprint (older format)'].append(record.image)
        elif record.sha256 != fingerprints(record.image):
            dropped['changed since'].append(record.image)
        else:
            kept.append(record)
    if len(kept) != len(records):
        rundir.write_records(path, kept)
        # kept network outputs (--keep-raw) belong to the dropped records too
        rundir.remove_netout(run_dir, name, [image for images in dropped.values()
                                             for image in images])
        log('{}: resuming {} saved records; dropped {}: {}'.format(
            name, len(kept), len(records) - len(kept), '; '.join(
                '{} {} ({}{})'.format(len(images), why, ', '.join(images[:3]),
                                      ', ...' if len(images) > 3 else '')
                for why, images in dropped.items() if images)))
    return {record.image for record in kept}
