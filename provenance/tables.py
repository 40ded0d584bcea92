"""Writing result tables so that a rerun diffs cleanly.

One table -> ``<stem>.csv`` (machine-readable) and ``<stem>.md`` (for people),
rows sorted by the given keys, floats in one fixed format.
"""
import os

FLOAT_FORMAT = '%.6g'


def sorted_frame(frame, sort_by):
    """``frame`` sorted stably by ``sort_by`` with a fresh 0..n-1 index."""
    if sort_by:
        frame = frame.sort_values(list(sort_by), kind='mergesort')
    return frame.reset_index(drop=True)


def frame_to_markdown(frame, float_format=FLOAT_FORMAT):
    """A pandas DataFrame as a GitHub Markdown table (no ``tabulate`` needed)."""
    def cell(value):
        if isinstance(value, float):
            return float_format % value
        return str(value).replace('|', '\\|').replace('\n', ' ')
    header = '| ' + ' | '.join(str(c) for c in frame.columns) + ' |'
    rule = '| ' + ' | '.join('---' for _ in frame.columns) + ' |'
    rows = ['| ' + ' | '.join(cell(v) for v in row) + ' |'
            for row in frame.itertuples(index=False, name=None)]
    return '\n'.join([header, rule] + rows) + '\n'


def write_table(frame, stem, sort_by=(), float_format=FLOAT_FORMAT):
    """Write ``frame`` to ``stem.csv`` and ``stem.md``; returns the sorted frame."""
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    frame = sorted_frame(frame, sort_by)
    frame.to_csv(stem + '.csv', index=False, float_format=float_format, lineterminator='\n')
    with open(stem + '.md', 'w') as f:
        f.write(frame_to_markdown(frame, float_format))
    return frame
