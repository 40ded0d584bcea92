"""The end of a run checks what is on disk against what it is about to claim.

Before ``meta.json`` says ``complete`` with each detector's ``images_done``,
:func:`check_records` reads every loaded detector's ``raw/<detector>.jsonl``
back (the reading rule of :mod:`compare.rundir`) and compares the images it
holds with those the run did or resumed for it. A file truncated, deleted or
rewritten while the run went on (the writer notices it before its next
append too: :class:`compare.rundir.RecordWriter`) makes the run fail in one
line naming the file; ``meta.json`` then says ``failed`` with the counts on
disk, and rerunning the same command resumes exactly the missing images.
"""
from compare import rundir
from compare.errors import UserError
from compare.rundir.records import CHANGED_FIX
from replicate.errors import one_line


def check_records(run_dir, done, counts):
    """Compare the records on disk with ``done``.

    Args:
        done: ``{detector: set of images}`` the run did or resumed
            (:func:`compare.runner.loop.run_images` keeps it).
        counts: :func:`compare.runner.loop.run_images`'s result; on a
            mismatch its ``'done'`` counts are set to what is on disk.

    Raises:
        UserError: one line naming each file that does not hold its records
            (how many, which are missing) and how to redo them.
    """
    problems = []
    for name in sorted(done):
        path = rundir.records_file(run_dir, name)
        try:
            on_disk = {record.image for record in rundir.read_records(path)[0]}
        except UserError as exc:
            counts['done'][name] = 0
            problems.append(one_line(exc))
            continue
        claimed = done[name]
        if on_disk == claimed:
            continue
        counts['done'][name] = len(on_disk & claimed)
        missing = sorted(claimed - on_disk)
        extra = sorted(on_disk - claimed)
        problems.append('{} holds records of {} of the {} images this run did or resumed{}{}: '
                        'it changed while the run went on'.format(
                            path, len(on_disk & claimed), len(claimed), _listed('missing', missing),
                            _listed('not of this run', extra)))
    if problems:
        raise UserError('{}; {}'.format('; '.join(problems), CHANGED_FIX))


def _listed(what, images):
    if not images:
        return ''
    return ' ({} {}: {}{})'.format(len(images), what, ', '.join(images[:3]),
                                   ', ...' if len(images) > 3 else '')
