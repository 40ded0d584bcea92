"""``mpiexec -n N python compare/run.py IMAGES --out RUN [...]``: N shards at once.

Under an MPI launch of more than one process (recognised by the variables
Open MPI, MPICH and Intel MPI set: :data:`SIZE_VARIABLES`; ``--mpi`` forces
it, e.g. under another launcher), rank R of N runs shard R+1 of N
(:mod:`compare.runner.shard`) into ``RUN/shards/R+1-of-N``, with the same options
and by the same rules as any run (its own lock, resume, identities).
Rank 0 then merges the shards into RUN (:mod:`compare.shards.merge`), scores it and
prints the headline: the same tables as one process would write, and the
same exit status (3 when a detector failed in some shard). Rank and size are
read from MPI (mpi4py), so the command is the same on one machine and on a
cluster (``mpiexec --hostfile HOSTS -n N ...``, RUN on a file system every
host sees).

The ranks meet three times (:class:`Meeting`): once the detectors are loaded
("ready"), once every slice is done ("images"), and once every shard has
ended and released its folder ("done": rank 0 merges only then). A rank that
fails goes to its next meeting with its one-line error instead, so no rank
waits forever for another: a failure at set-up (bad arguments, a detector
every rank fails to load) stops every rank there; a later one lets the others
finish their slices (nothing computed is lost; rerunning the same command
resumes every shard) and rank 0 reports it instead of merging. Rank 0 prints
one ``error:`` line (the lowest failing rank's), every rank exits with its
status. Waiting ranks sleep (they poll a non-blocking barrier) instead of
spinning a core, and rank 0 times the detectors only after every rank has
stopped computing, so its speed table is not disturbed by the others.
"""
import os
import time
import traceback

from compare import rundir
from compare.errors import (
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    UserError,
    describe_os_error,
    is_user_error,
)
from compare.limits import MAX_SHARDS
from compare.runner import cli, command, shard
from compare.shards import merge
from replicate.errors import one_line

#: Environment variables holding the job size: Open MPI, then MPICH / Intel MPI (PMI).
SIZE_VARIABLES = ('OMPI_COMM_WORLD_SIZE', 'PMI_SIZE')
RANK_VARIABLES = ('OMPI_COMM_WORLD_RANK', 'PMI_RANK')
#: The meetings of every rank, in order.
STAGES = ('ready', 'images', 'done')
_POLL_SECONDS = 0.05


def _environment_int(names):
    for name in names:
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            continue
    return None


def wanted(args):
    """Whether this process is a rank of an MPI job: ``--mpi``, or launched
    by mpiexec with more than one process."""
    return bool(getattr(args, 'mpi', False)) or (_environment_int(SIZE_VARIABLES) or 1) > 1


def communicator():
    """``MPI.COMM_WORLD``, or UserError saying what to install."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise UserError('an MPI launch needs mpi4py ({}): pip install "ssd-suite[mpi]" (or pip '
                        'install mpi4py) beside an MPI library (Debian: apt-get install '
                        'openmpi-bin libopenmpi-dev)'.format(error)) from None
    return MPI.COMM_WORLD


class PeerFailed(Exception):
    """Another rank failed at set-up; rank 0 reports its error."""


def _wait(comm):
    """Wait until every rank is here, sleeping between polls (a blocking
    barrier of Open MPI keeps a core busy)."""
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(_POLL_SECONDS)


class Meeting:
    """The ranks' meetings (:data:`STAGES`), where they share their failures.

    Attributes:
        failures: ``[(rank, message)]`` of the first meeting any rank came to
            with a failure (then there are no more meetings), else ``[]``.
    """

    def __init__(self, comm):
        self.comm = comm
        self.next = 0
        self.failures = []

    def meet(self, stage, failure=None):
        """Meet the other ranks at ``stage``, bringing ``failure`` (a one-line
        message) or None.

        Raises:
            PeerFailed: another rank failed at set-up (stage ``ready``).
        """
        if self.failures:
            return  # a rank failed at an earlier meeting: there are no more
        if self.next >= len(STAGES) or STAGES[self.next] != stage:
            raise RuntimeError('meeting {!r} out of order (next: {})'.format(
                stage, STAGES[self.next:] or 'none'))
        self.next += 1
        _wait(self.comm)
        shared = self.comm.allgather(failure)
        self.failures = [(rank, message) for rank, message in enumerate(shared)
                         if message is not None]
        if self.failures:
            self.next = len(STAGES)  # everyone knows: no more meetings
            if stage == 'ready' and failure is None:
                raise PeerFailed()

    def fail(self, message):
        """This rank failed: go to the next meeting with ``message`` (if any
        meeting is left), so the others do not wait for it."""
        if self.next < len(STAGES):
            self.meet(STAGES[self.next], message)


class _Plan(shard.Plan):
    """A shard whose speed benchmark is skipped when another rank failed
    (the shards will not be merged)."""

    @property
    def times(self):
        return super().times and not self.meeting.failures

    def done_message(self, run_dir):
        return 'shard {}/{} written to {}'.format(self.k, self.n, self.folder(run_dir))


def _message(exc):
    """One line for the other ranks; a bug's traceback is printed here."""
    if isinstance(exc, KeyboardInterrupt):
        return 'interrupted'
    if is_user_error(exc):
        return one_line(exc)
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    traceback.print_exc()
    return '{}: {} (traceback above, from that rank)'.format(type(exc).__name__,
                                                             one_line(exc))


def _report(failures, size, log):
    """Rank 0's one ``error:`` line; returns the exit status."""
    messages = {message for _, message in failures}
    rank, message = failures[0]
    if len(messages) == 1 and len(failures) == size:
        log('error: {} (every rank)'.format(message))
    else:
        others = len(failures) - 1
        log('error: shard {}/{} (rank {}): {}{}'.format(
            rank + 1, size, rank, message,
            '; {} other rank(s) failed too'.format(others) if others else ''))
    if messages == {'interrupted'}:
        log('interrupted: re-run the same command to resume (finished images are kept)')
        return EXIT_INTERRUPTED
    return EXIT_USER_ERROR


def main(args, log=None):
    """One rank of ``compare/run.py`` under MPI; returns its exit status."""
    log = log or cli.log
    try:
        comm = communicator()
    except UserError as error:
        if not _environment_int(RANK_VARIABLES):  # rank 0 (or unknown) says it, once
            log('error: {}'.format(error))
        return EXIT_USER_ERROR
    rank, size = comm.Get_rank(), comm.Get_size()
    if size == 1 and args.shard is None:
        return _alone(args)
    if rank != 0:
        args.no_progress = True  # one progress bar, rank 0's
    meeting = Meeting(comm)
    run_dir = None
    try:
        if args.shard is not None:
            raise UserError('--shard and an MPI launch exclude each other: under mpiexec rank '
                            'R runs shard R+1 of the job size; drop --shard')
        if size > MAX_SHARDS:
            raise UserError('an MPI job of {} processes: a run has at most {} shards (one per '
                            'rank); launch at most {} (mpiexec -n)'.format(
                                size, MAX_SHARDS, MAX_SHARDS))
        run_dir = cli.output_folder(args)
        with cli.sigterm_interrupts():  # kill, a batch system's stop: as Ctrl-C
            cli.run(args, _Plan(rank + 1, size, meeting))  # its folder's lock released
        meeting.meet('done')
    except PeerFailed:
        pass
    except BaseException as exc:  # every failure, Ctrl-C included, must reach the others
        meeting.fail(_message(exc))
    if meeting.failures:
        code = _report(meeting.failures, size, log) if rank == 0 else EXIT_USER_ERROR
        _wait(comm)  # rank 0 has printed: end together
        return code
    if rank != 0:
        return 0
    folders = [rundir.shard_folder(run_dir, k, size) for k in range(1, size + 1)]
    result, code = command.call(lambda: merge.merge_and_score(
        run_dir, folders, args.no_score, log, annotations=args.annotations,
        score_thresh=args.score_thresh, box_convention=args.box_convention), log,
        'interrupted: re-run the same command (every shard is complete: it merges)')
    if result is None:
        return code
    return command.finish(run_dir, *result, log, ' ({} ranks)'.format(size))


def _alone(args):
    """``--mpi`` with one process: the ordinary run."""
    return cli.run_command(args)
