"""Write a benchmark table as ``<stem>.csv``, ``<stem>.md`` and
``<stem>.meta.json``, with plain Python (no pandas: the benchmark also runs
on machines that only have the model's own dependencies).

Floats are written ``%.6g``; rows keep the order the benchmark made them in
(batch size, pipeline, stage), which is deterministic.
"""
import csv
import json
import os

from provenance.stamp import provenance_markdown

FLOAT_FORMAT = '%.6g'


def cell(value):
    """A table cell: floats in the fixed format, everything else as text."""
    if isinstance(value, float):
        return FLOAT_FORMAT % value
    return str(value)


def markdown_table(rows, columns):
    """GitHub Markdown table of ``rows`` (dicts) in ``columns`` order."""
    lines = ['| ' + ' | '.join(columns) + ' |', '| ' + ' | '.join('---' for _ in columns) + ' |']
    lines += ['| ' + ' | '.join(cell(row.get(c, '')).replace('|', '\\|') for c in columns) + ' |'
              for row in rows]
    return '\n'.join(lines) + '\n'


def write_csv(rows, columns, path):
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row.get(c, '')) for c in columns])


def write_report(stem, title, sections, rows, columns, meta):
    """Write the three files.

    Args:
        stem: path without extension; its folder is created.
        title: the Markdown heading.
        sections: list of ``(heading or None, Markdown text)`` placed before
            the full table.
        rows, columns: the full table (also the CSV).
        meta: JSON-able dict; its ``provenance`` and ``machine`` (flat
            ``{str: str}``) are also printed at the end of the Markdown.
    """
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    write_csv(rows, columns, stem + '.csv')
    parts = ['# ' + title + '\n']
    for heading, text in sections:
        parts.append(('## ' + heading + '\n\n' if heading else '') + text)
    parts.append('## All rows (`{}.csv`)\n\n'.format(os.path.basename(stem))
                 + markdown_table(rows, columns))
    parts.append('## Machine\n\n' + provenance_markdown(meta.get('machine', {})))
    parts.append('## Provenance\n\n' + provenance_markdown(meta.get('provenance', {})))
    with open(stem + '.md', 'w') as f:
        f.write('\n'.join(parts))
    with open(stem + '.meta.json', 'w') as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write('\n')
