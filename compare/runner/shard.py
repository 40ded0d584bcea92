"""One slice of a run's images: ``python compare/run.py IMAGES --out RUN --shard K/N``.

K counts from 1 (``--shard 1/3``, ``2/3``, ``3/3``). The images are listed
exactly as an unsharded run lists them (:func:`compare.images.list_images`:
relative posix paths, sorted), and image number ``i`` of that list (0-based)
belongs to shard ``i % N + 1``: round robin, so the shards differ in size by
at most one image and each gets a mix of every sub-folder.

Shard K is an ordinary run folder of its slice, ``RUN/shards/K-of-N`` (it
resumes, locks and fails like any run folder), plus ``raw/shard.json``
(:func:`compare.rundir.write_shard`: K, N, the whole listing's fingerprint
and the slice). It is not scored; only shard 1 runs the speed benchmark, on
the same first images of the WHOLE list an unsharded run would time. Once all
N are complete, ``python -m compare.merge RUN`` (:mod:`compare.shards.merge`) checks
that they belong together and writes RUN as one run folder with the same
tables as an unsharded run of the same images. :mod:`compare.shards.mpi_launch`
runs every shard at once, one per MPI rank, and merges.

:class:`Plan` is what :func:`compare.runner.cli.run` asks of the sharding: which
images, which folder, whether to time and score, and two meeting points
(:mod:`compare.shards.mpi_launch` makes the ranks meet there).
"""
import hashlib
import os
import re

from compare.errors import UserError
from compare.limits import MAX_SHARDS
from compare.rundir.layout import shard_folder

#: ``K/N``: ASCII digits only (``\d`` would take other scripts' digits too),
#: spaces around each allowed.
_SPEC = re.compile(r'[ \t]*([0-9]+)[ \t]*/[ \t]*([0-9]+)[ \t]*', re.ASCII)


def parse(text):
    """``(k, n)`` of ``--shard K/N`` (K from 1 to N, N at most
    :data:`compare.limits.MAX_SHARDS`).

    Raises:
        UserError: not two whole numbers ``K/N`` (digits 0-9) with
            ``1 <= K <= N <= MAX_SHARDS``; the message quotes at most 40
            characters of ``text``.
    """
    text = str(text)
    match = _SPEC.fullmatch(text)
    # at most 6 significant digits reach int(): a 5000-digit N must not
    # meet Python's limit on converting long strings
    numbers = [part.lstrip('0') or '0' for part in match.groups()] if match else []
    k, n = ((int(numbers[0]), int(numbers[1]))
            if numbers and max(map(len, numbers)) <= 6 else (0, 0))
    if not 1 <= k <= n <= MAX_SHARDS:
        shown = repr(text) if len(text) <= 40 else '{!r}... ({} characters)'.format(
            text[:40], len(text))
        raise UserError('--shard {}: expected K/N with 1 <= K <= N <= {} (two whole numbers in '
                        'digits 0-9; K counts from 1, e.g. --shard 1/4 ... --shard 4/4)'.format(
                            shown, MAX_SHARDS))
    return k, n


def select(images, k, n):
    """The images of shard ``k`` of ``n``: every ``n``-th of ``images`` from
    position ``k - 1`` (``images`` sorted, as listed)."""
    return list(images[k - 1::n])


def interleave(slices):
    """The whole list back from the slices of shards 1..N (inverse of :func:`select`)."""
    total = sum(len(part) for part in slices)
    n = len(slices)
    return [slices[i % n][i // n] for i in range(total)]


def listing_sha256(images_dir, images):
    """Fingerprint of the images folder as listed: sha256 over each image's
    relative path and size in bytes, in list order (a file added, removed,
    renamed or resized changes it)."""
    digest = hashlib.sha256()
    for image in images:
        try:
            size = os.path.getsize(os.path.join(images_dir, image))
        except OSError:
            size = -1
        digest.update('{}\t{}\n'.format(image, size).encode('utf-8'))
    return digest.hexdigest()


class Plan:
    """What :func:`compare.runner.cli.run` does differently for a shard.

    ``Plan()`` is the whole, unsharded run (every hook a no-op); ``Plan(k, n)``
    is shard ``k`` of ``n``; ``meeting`` (:class:`compare.shards.mpi_launch.Meeting`)
    makes the MPI ranks agree at :meth:`ready` and :meth:`images_done`.
    """

    def __init__(self, k=None, n=None, meeting=None):
        self.k, self.n, self.meeting = k, n, meeting

    @classmethod
    def of_args(cls, args):
        """The plan of ``--shard`` (absent: the whole run)."""
        shard = getattr(args, 'shard', None)
        return cls(*parse(shard)) if shard is not None else cls()

    @property
    def sharded(self):
        return self.k is not None

    @property
    def times(self):
        """Whether this run times the detectors (the whole run, or shard 1)."""
        return not self.sharded or self.k == 1

    @property
    def scores(self):
        """Whether this run scores itself (shards are scored once merged)."""
        return not self.sharded

    def folder(self, run_dir):
        """Where this run writes: ``run_dir``, or its shard folder."""
        return shard_folder(run_dir, self.k, self.n) if self.sharded else run_dir

    def select(self, images):
        return select(images, self.k, self.n) if self.sharded else images

    def describe(self, images_dir, images):
        """The content of ``raw/shard.json`` for the whole listing ``images``,
        or None for an unsharded run."""
        if not self.sharded:
            return None
        return {'k': self.k, 'n': self.n, 'listed_total': len(images),
                'listing_sha256': listing_sha256(images_dir, images),
                'images': self.select(images)}

    def ready(self):
        """Detectors loaded, images not yet run (MPI: every rank agrees to go on)."""
        if self.meeting is not None:
            self.meeting.meet('ready')

    def images_done(self):
        """This slice's images are done (MPI: rank 0 times the detectors only
        after every rank has stopped computing)."""
        if self.meeting is not None:
            self.meeting.meet('images')

    def done_message(self, run_dir):
        """What a finished shard tells its user."""
        return ('shard {}/{} written to {}; once all {} shards have run: python -m compare.merge {}'
                .format(self.k, self.n, self.folder(run_dir), self.n, run_dir))
