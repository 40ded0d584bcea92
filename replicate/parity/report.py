"""Writing one parity run: ``<stem>.csv``, ``<stem>.md``, ``<stem>.meta.json``.

Rows stay in execution order (no sorting) and floats use the project's fixed
format (:data:`provenance.tables.FLOAT_FORMAT`), so a rerun on the same
checkout diffs cleanly except for the provenance date.
"""
import json
import os

import pandas as pd

from provenance.stamp import provenance_markdown
from provenance.tables import frame_to_markdown, write_table
from replicate.parity import metrics
from replicate.ssd.pretrained import PRETRAINED


def report_stem(out_dir, device, weights, ours):
    """``<out>/[selfcheck_]<cpu|gpu>_<weights>``; weights is ``random``, a
    pretrained name (``voc0712``) or the npz file's base name."""
    device_tag = 'gpu' if 'cupy' in str(device) else 'cpu'
    weights_tag = weights if weights == 'random' or weights in PRETRAINED else \
        os.path.splitext(os.path.basename(weights))[0]
    prefix = '' if ours == 'replicate' else 'selfcheck_'
    return os.path.join(out_dir, '{}{}_{}'.format(prefix, device_tag, weights_tag))


def summary(rows):
    """Counts per verdict, the first diverging row's name and the overall
    verdict (``PASS`` or ``DIVERGES``)."""
    first = metrics.first_divergence(rows)
    counts = {v: sum(r['verdict'] == v for r in rows)
              for v in (metrics.EXACT, metrics.WITHIN, metrics.DIVERGES)}
    return {'verdict': 'PASS' if first is None else 'DIVERGES',
            'first_diverging': None if first is None else first['name'],
            'rows': len(rows), 'counts': counts}


def verdict_sentence(info, rtol):
    """The report's one-sentence conclusion."""
    counts = info['counts']
    if info['first_diverging'] is None:
        return ('**PASS**: all {} compared outputs match ({} exact, {} within the tolerance '
                'scaled_err <= {:g}), final detections included.'.format(
                    info['rows'], counts[metrics.EXACT], counts[metrics.WITHIN], rtol))
    return ('**DIVERGES**: the first diverging layer is `{}`; {} of {} compared outputs '
            'diverge (tolerance scaled_err <= {:g}).'.format(
                info['first_diverging'], counts[metrics.DIVERGES], info['rows'], rtol))


def _settings_markdown(settings, name_map):
    lines = ['| setting | value |', '| --- | --- |']
    lines += ['| {} | {} |'.format(k, str(v).replace('|', '\\|'))
              for k, v in sorted(settings.items())]
    mapped = ', '.join('`{}` -> `{}`'.format(a, b) for a, b in sorted(name_map.items()))
    lines.append('| name map (reference -> ours) | {} |'.format(mapped or 'none: names must match'))
    return '\n'.join(lines) + '\n'


#: The page explaining the columns of every parity report, in the repository.
COLUMNS_README = os.path.join('reports', 'parity', 'README.md')
#: The repository holding this package (editable install; else the columns page is named in words).
REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def columns_sentence(out_dir, repository=REPOSITORY):
    """Where a report written into ``out_dir`` finds its columns explained:
    a link relative to ``out_dir`` when it lies inside the repository (which
    holds :data:`COLUMNS_README`), else the page named in words (a link would
    lead nowhere from a folder outside the repository)."""
    readme = os.path.join(repository, COLUMNS_README)
    out_dir = os.path.realpath(out_dir)
    inside = os.path.commonpath([out_dir, os.path.realpath(repository)]) == \
        os.path.realpath(repository)
    if inside and os.path.isfile(readme):
        link = os.path.relpath(os.path.realpath(readme), out_dir).replace(os.sep, '/')
        return 'Columns are explained in [{}]({}).'.format(link, link)
    return 'Columns are explained in {} of the repository.'.format(
        COLUMNS_README.replace(os.sep, '/'))


def markdown(frame, info, settings, provenance, name_map, tolerance_note, columns=None):
    """The whole ``.md`` text: title, verdict, tolerance, settings,
    provenance, then the table. ``columns``: :func:`columns_sentence` of the
    report's folder (default: that of reports/parity)."""
    return '\n'.join([
        '# SSD300 parity: ours vs ChainerCV, layer by layer', '',
        verdict_sentence(info, settings['rtol']), '', tolerance_note, '',
        columns or columns_sentence(os.path.join(REPOSITORY, 'reports', 'parity')), '',
        '## Settings', '', _settings_markdown(settings, name_map),
        '## Provenance', '', provenance_markdown(provenance),
        '## Layers (execution order)', '', frame_to_markdown(frame)])


def write_report(rows, stem, settings, provenance, name_map, tolerance_note):
    """Write the three files of a run; returns :func:`summary`'s dict.

    Args:
        rows (list of dict): :func:`replicate.parity.metrics.compare_traces`.
        stem (str): path without extension.
        settings (dict): the run's options (must hold ``rtol``).
        provenance (dict): :func:`provenance.stamp.provenance`.
        name_map (dict): reference name -> our name, printed in the report.
        tolerance_note (str): why the tolerance is what it is.
    """
    frame = pd.DataFrame(rows, columns=list(metrics.COLUMNS))
    frame = write_table(frame, stem)  # csv (and a bare md, replaced below)
    info = summary(rows)
    with open(stem + '.md', 'w') as f:
        f.write(markdown(frame, info, settings, provenance, name_map, tolerance_note,
                         columns_sentence(os.path.dirname(os.path.abspath(stem)))))
    meta = {'provenance': provenance, 'settings': settings, 'name_map': name_map,
            'summary': info, 'tolerance_note': tolerance_note}
    with open(stem + '.meta.json', 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True, default=str)
        f.write('\n')
    return info
