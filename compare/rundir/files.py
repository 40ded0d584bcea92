"""Reading and writing one file of a run folder: one-line errors naming the
file and the way out, JSON written atomically."""
import json
import os

from compare.errors import UserError
from replicate.errors import one_line


def read_file(path):
    """The bytes of a file of the run folder; UserError (naming it and the way
    out) when it is not a readable regular file."""
    try:
        if not os.path.isfile(path):
            raise UserError('{} is not a file; remove it (or rerun with --force)'.format(path))
        with open(path, 'rb') as f:
            return f.read()
    except OSError as exc:
        raise UserError('cannot read {}: {}; check its permissions or remove it'.format(
            path, exc.strerror)) from None


def text_lines(path):
    """The lines of a CSV file of the run folder, as text (UserError if not UTF-8)."""
    try:
        return read_file(path).decode('utf-8').splitlines()
    except UnicodeDecodeError:
        raise UserError('{} is not UTF-8 text; rerun compare/run.py (it rewrites the file) or '
                        'delete it'.format(path)) from None


def write_json(path, data):
    """``path`` holding ``data`` as JSON, written atomically (a temporary file
    renamed)."""
    partial = path + '.part'
    with open(partial, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write('\n')
    os.replace(partial, path)


def load_json(path, fix):
    """The JSON of a file of the run folder; UserError naming it and ``fix``."""
    try:
        return json.loads(read_file(path).decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise UserError('{} is not valid JSON ({}: {}); {}'.format(
            path, type(exc).__name__, one_line(exc)[:200], fix)) from None
