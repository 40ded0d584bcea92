"""How a command of the harness ends: one line and an exit status.

Shared by ``compare/run.py`` (:mod:`compare.runner.cli`), ``python -m
compare.merge`` and the MPI launch: Ctrl-C (and SIGTERM, where the command
turns it into Ctrl-C), a user error or an ``OSError`` end in one line without
a traceback (:mod:`compare.errors`); a run that ended without doing all it
was asked says ``incomplete:`` and exits with status 3.
"""
from compare.errors import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USER_ERROR,
    describe_os_error,
    is_user_error,
)
from replicate.errors import one_line


def call(action, log, interrupted):
    """``action()`` as a command runs it.

    Args:
        log: prints one line.
        interrupted: the line printed after Ctrl-C (what to do next).

    Returns:
        ``(result of action, None)``, or ``(None, exit status)`` once the
        one line of a Ctrl-C, user error or OSError is printed. Anything
        else is a bug and raises.
    """
    try:
        return action(), None
    except KeyboardInterrupt:
        log(interrupted)
        return None, EXIT_INTERRUPTED
    except OSError as exc:
        log('error: {}'.format(describe_os_error(exc)))
        return None, EXIT_USER_ERROR
    except Exception as exc:
        if not is_user_error(exc):
            raise
        log('error: {}'.format(one_line(exc)))
        return None, EXIT_USER_ERROR


def problems_of(statuses, readable, images_dir):
    """What a run was asked but did not do: failed detectors (``statuses``:
    ``{name: 'ok' or 'failed: ...'}``), no readable image (``readable``: how
    many images of ``images_dir`` could be read); one string each."""
    problems = ['detector {} {}'.format(name, status) for name, status in statuses.items()
                if status != 'ok']
    if not readable:
        problems.append('no image of {} could be read (see raw/skipped.csv)'.format(images_dir))
    return problems


def finish(out, problems, headline, log, what=''):
    """The closing lines of a run into ``out`` (``done:`` or ``incomplete:``
    with ``problems``, then the headline lines); returns the exit status."""
    if problems:
        log('incomplete: {}: {} (exit status {})'.format(out, '; '.join(problems),
                                                          EXIT_INCOMPLETE))
    else:
        log('done: {}{}'.format(out, what))
    if headline:
        log('\n'.join(['', 'HEADLINE'] + headline))
    return EXIT_INCOMPLETE if problems else EXIT_OK
