"""What the console says about files of the images folder that were skipped.

``raw/skipped.csv`` and summary.md list every skipped file; the console warns
about those a user must act on -- a file named as an image that cannot be
read (truncated, corrupt, not an image at all, not a regular file, a name
that is not UTF-8) -- one line each, at most :data:`MAX_LINES` of them.
Files skipped on purpose (no image suffix, a run folder among the images)
are not warned about.
"""
from compare.images import NOT_AN_IMAGE, RUN_FOLDER
from replicate.errors import one_line

#: Warning lines printed before "and N more".
MAX_LINES = 10
_ON_PURPOSE = (NOT_AN_IMAGE, RUN_FOLDER)


def needs_action(skipped):
    """The ``(image, reason)`` pairs of ``skipped`` a user should fix, sorted."""
    return sorted((image, reason) for image, reason in skipped
                  if not str(reason).startswith(_ON_PURPOSE))


def short_reason(image, reason):
    """``reason`` without the leading ``cannot read image <path>:`` (the line
    names the image already), on one line."""
    reason = one_line(reason)
    marker = str(image) + ': '
    at = reason.find(marker)
    if reason.startswith('cannot read image ') and at >= 0:
        reason = reason[at + len(marker):]
    return reason


def warning_lines(skipped, limit=MAX_LINES):
    """One ``WARNING: skipped ...`` line per file to fix (the first ``limit``),
    then one line for the rest."""
    todo = needs_action(skipped)
    lines = ['WARNING: skipped {}: {}; replace or remove it'.format(
        image, short_reason(image, reason)) for image, reason in todo[:limit]]
    if len(todo) > limit:
        lines.append('WARNING: and {} more unreadable file(s): see raw/skipped.csv'.format(
            len(todo) - limit))
    return lines


def count_text(skipped):
    """``'2 unreadable files'`` among ``skipped``, or ``''`` when none needs action."""
    count = len(needs_action(skipped))
    if not count:
        return ''
    return '{} unreadable file{}'.format(count, '' if count == 1 else 's')


def done_note(skipped):
    """``'; 2 unreadable files skipped (see raw/skipped.csv)'`` for the done
    line, or ``''``."""
    text = count_text(skipped)
    return '; {} skipped (see raw/skipped.csv)'.format(text) if text else ''


def headline_line(skipped):
    """``['skipped: 2 unreadable files (see raw/skipped.csv)']``, or ``[]``."""
    text = count_text(skipped)
    return ['skipped: {} (see raw/skipped.csv)'.format(text)] if text else []
