"""report.html: one self-contained page (figures embedded as base64 PNG).

The same tables and texts as summary.md, plus every figure of the gallery.
Tables go through ``DataFrame.to_html`` (escaped) with the fixed float format
of :mod:`reporting.tables`; the page has no date of its own, so re-scoring a
run gives the same bytes.
"""
import base64
import html
import os
import re

from compare.report.markdown import (
    DECODING_NOTE,
    MAP_CONVENTIONS,
    MATCHING_RULE,
    SPEED_NOTE,
    SPEED_SHOWN,
    banners,
    detectors_frame,
    provenance_rows,
)
from reporting.tables import FLOAT_FORMAT

STYLE = """
body { font-family: sans-serif; margin: 1.5em; max-width: 1400px; }
table { border-collapse: collapse; font-size: 12px; margin-bottom: 1em; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; }
th { background: #eee; }
.banner { background: #c00; color: #fff; font-weight: bold; padding: 0.6em; margin: 0.3em 0; }
.note { color: #555; font-size: 13px; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.3em 0; }
"""


def table_html(frame, columns=None):
    """An escaped HTML table, floats in the report's fixed format."""
    if frame is None or frame.empty:
        return '<p class="note">(none)</p>'
    shown = frame[[c for c in columns if c in frame.columns]] if columns else frame
    return shown.to_html(index=False, float_format=lambda v: FLOAT_FORMAT % v, na_rep='',
                         border=0)


def image_html(run_dir, path, alt):
    """``<img>`` with the PNG at ``run_dir/path`` embedded as base64."""
    with open(os.path.join(run_dir, path), 'rb') as f:
        data = base64.b64encode(f.read()).decode('ascii')
    return '<img alt="{}" title="{}" src="data:image/png;base64,{}">'.format(
        html.escape(alt), html.escape(path), data)


def inline_markdown(text):
    """Escape ``text``, then render the two inline forms the shared notes
    use: `code` -> <code>, **bold** -> <b>."""
    escaped = html.escape(text)
    escaped = re.sub(r'`([^`]+)`', r'<code>\1</code>', escaped)
    return re.sub(r'\*\*([^*]+)\*\*', r'<b>\1</b>', escaped)


def _section(title, body, text=None):
    parts = ['<h2>{}</h2>'.format(html.escape(title))]
    if text:
        parts.append('<p class="note">{}</p>'.format(inline_markdown(text)))
    return parts + [body]


def _figures(scored, gallery):
    run_dir = scored.run.run_dir
    parts = _section('Detections', ''.join(image_html(run_dir, path, image)
                                           for image, path in gallery.detections))
    parts += _section('Precision-recall (VOC)', ''.join(image_html(run_dir, path, name)
                                                        for name, path in gallery.pr))
    if gallery.speed_accuracy:
        parts += _section('Speed against accuracy',
                          image_html(run_dir, gallery.speed_accuracy, 'speed vs accuracy'))
    notes = ''.join('<li>{}</li>'.format(html.escape(n)) for n in gallery.notes)
    return parts + ['<ul class="note">{}</ul>'.format(notes)]


def report_html(scored, gallery):
    """The text of report.html."""
    run, tables = scored.run, scored.tables
    title = 'Detector comparison: {}'.format(run.run_dir.rstrip('/').split('/')[-1])
    parts = ['<!DOCTYPE html>', '<html><head><meta charset="utf-8">',
             '<title>{}</title><style>{}</style></head><body>'.format(html.escape(title), STYLE),
             '<h1>{}</h1>'.format(html.escape(title))]
    parts += ['<div class="banner">{}</div>'.format(html.escape(b)) for b in banners(run)]
    parts += _section('What ran', table_html(detectors_frame(run)), DECODING_NOTE)
    parts += _section('Agreement between detectors', table_html(tables['agreement_summary']),
                      MATCHING_RULE)
    parts += _section('Speed (seconds per image)', table_html(tables['speed'], SPEED_SHOWN),
                      SPEED_NOTE)
    if 'map_summary' in tables:
        parts += _section('Accuracy (mAP)', table_html(tables['map_summary']), MAP_CONVENTIONS)
        if 'map_conventions' in tables:
            parts += _section('Conventions of these numbers',
                              table_html(tables['map_conventions']))
        parts += _section('AP per class', table_html(tables['map_per_class']))
    parts += _figures(scored, gallery)
    parts += _section('Agreement per class', table_html(tables['agreement_per_class']))
    parts += _section('Warnings', table_html(tables['score_warnings']))
    parts += _section('Provenance (meta.json)', '<table>{}</table>'.format(''.join(
        '<tr><th>{}</th><td>{}</td></tr>'.format(html.escape(k), html.escape(v))
        for k, v in provenance_rows(run).items())))
    return '\n'.join(parts + ['</body></html>']) + '\n'
