"""report.html: the sections of :mod:`compare.report.sections` as one
self-contained page (figures embedded as base64, no request leaves it).

Tables are written here (escaped): numeric columns right-aligned, text
columns left-aligned, each table in a box that scrolls sideways when wider
than the page. Pictures of detections are shown side by side at
:data:`compare.report.overlays.SHOWN` px (their text >= 12 px there) and
enlarge on click (a few lines of inline script). The page has no date of its
own, so re-scoring a run gives the same bytes.
"""
import base64
import html
import os
import re

import pandas as pd

from compare.report.overlays import SHOWN
from compare.report.sections import banners, sections
from compare.rundir.precision import cell as precise

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
.scroll { overflow: auto; max-width: 100%; max-height: 36em; margin-bottom: 1em; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top;
         white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eee; }
.caption { font-size: 13px; margin: 0.6em 0 0.2em; }
.banner { background: #c00; color: #fff; font-weight: bold; padding: 0.4em 0.6em; margin: 0.3em 0;
          font-size: 14px; }
.note { color: #333; font-size: 13px; max-width: 70em; overflow-wrap: anywhere; }
.headline { font-size: 15px; line-height: 1.45; max-width: 72em; padding-left: 1.2em; }
.headline li { margin: 0.35em 0; overflow-wrap: anywhere; }
.headline li.random_weights { color: #6a4a00; }
.headline ul { font-size: 14px; }
.lines li { font-family: monospace; font-size: 13px; overflow-wrap: anywhere; }
.chart { display: flex; flex-wrap: wrap; gap: 8px; }
.chart figure { margin: 0; max-width: 100%; }
.chart img { max-width: 100%; border: 1px solid #ddd; }
.gallery { display: flex; flex-wrap: wrap; gap: 8px; }
.gallery figure { width: %dpx; margin: 0; }
.gallery img { width: 100%; border: 1px solid #ddd; cursor: zoom-in; }
figcaption { font-size: 12px; overflow-wrap: anywhere; }
#zoom { display: none; position: fixed; inset: 0; background: rgba(0,0,0,0.85);
        align-items: center; justify-content: center; cursor: zoom-out; z-index: 10; }
#zoom img { width: min(96vw, 960px); max-height: 96vh; object-fit: contain; }
nav { font-size: 13px; }
""".replace('%dpx', '{}px'.format(SHOWN))

SCRIPT = """
<div id="zoom" onclick="this.style.display='none'"><img alt="enlarged"></div>
<script>
document.querySelectorAll('.gallery img').forEach(function (img) {
  img.addEventListener('click', function () {
    var zoom = document.getElementById('zoom');
    zoom.querySelector('img').src = img.src;
    zoom.style.display = 'flex';
  });
});
</script>
"""


def _cell(column, value):
    if isinstance(value, float):
        return '' if value != value else precise(column, value)
    return html.escape(str(value))


def table_html(frame):
    """An escaped HTML table in a sideways-scrolling box; numbers right-aligned."""
    if frame is None or frame.empty:
        return '<p class="note">(none)</p>'
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not
               pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]
    head = ''.join('<th>{}</th>'.format(html.escape(str(c))) for c in frame.columns)
    rows = []
    columns = list(frame.columns)
    for values in frame.itertuples(index=False, name=None):
        rows.append('<tr>{}</tr>'.format(''.join(
            '<td class="num">{}</td>'.format(_cell(c, v)) if num else
            '<td>{}</td>'.format(_cell(c, v))
            for c, v, num in zip(columns, values, numeric, strict=True))))
    return '<div class="scroll"><table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>' \
        .format(head, ''.join(rows))


def findings_html(findings):
    """The headline's sentences: a list, the sentences under one nested."""
    items = []
    for finding in findings:
        inner = ''.join('<li>{}</li>'.format(inline_markdown(c)) for c in finding.children)
        items.append('<li class="{}">{}{}</li>'.format(
            html.escape(finding.topic), inline_markdown(finding.text),
            '<ul>{}</ul>'.format(inner) if inner else ''))
    return '<ul class="headline" id="findings">{}</ul>'.format(''.join(items))


def image_html(run_dir, path, alt):
    """``<img>`` with the file at ``run_dir/path`` embedded as base64."""
    with open(os.path.join(run_dir, path), 'rb') as f:
        data = base64.b64encode(f.read()).decode('ascii')
    kind = 'jpeg' if path.endswith('.jpg') else 'png'
    return '<img alt="{}" title="{}" src="data:image/{};base64,{}">'.format(
        html.escape(alt), html.escape(path), kind, data)


def inline_markdown(text):
    """Escape ``text``, then render the two inline forms the shared notes
    use: `code` -> <code>, **bold** -> <b>."""
    escaped = html.escape(text)
    escaped = re.sub(r'`([^`]+)`', r'<code>\1</code>', escaped)
    return re.sub(r'\*\*([^*]+)\*\*', r'<b>\1</b>', escaped)


def _anchor(section):
    return section.anchor or re.sub(r'[^a-z0-9]+', '-', section.title.lower()).strip('-')


def _figures(run_dir, section):
    if not section.figures:
        return []
    gallery = section.title == 'Detections drawn' or any(
        path.endswith('.jpg') for _, path in section.figures)
    items = ['<figure>{}<figcaption>{}</figcaption></figure>'.format(
        image_html(run_dir, path, caption), html.escape(caption))
        for caption, path in section.figures]
    return ['<div class="{}">{}</div>'.format('gallery' if gallery else 'chart', ''.join(items))]


def _section(run_dir, section):
    parts = ['<h2 id="{}">{}</h2>'.format(_anchor(section), html.escape(section.title))]
    parts += ['<p class="note">{}</p>'.format(inline_markdown(n))
              for n in section.notes + section.html_notes]
    if section.lines:
        parts.append('<ul class="lines">{}</ul>'.format(''.join(
            '<li>{}</li>'.format(html.escape(line)) for line in section.lines)))
    if section.findings:
        parts.append(findings_html(section.findings))
    for caption, frame in section.tables:
        if caption:
            parts.append('<p class="caption">{}</p>'.format(inline_markdown(caption)))
        parts.append(table_html(frame))
    return parts + _figures(run_dir, section)


def report_html(scored, gallery):
    """The text of report.html."""
    run = scored.run
    title = 'Detector comparison: {}'.format(run.run_dir.rstrip('/').split('/')[-1])
    found = sections(scored, gallery)
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<title>{}</title><style>{}</style></head><body>'.format(html.escape(title), STYLE),
             '<h1>{}</h1>'.format(html.escape(title))]
    parts += ['<div class="banner">{}</div>'.format('<br>'.join(html.escape(line)
                                                                for line in banner))
              for banner in banners(run)]
    parts.append('<nav>{}</nav>'.format(' · '.join(
        '<a href="#{}">{}</a>'.format(_anchor(s), html.escape(s.title)) for s in found)))
    for section in found:
        parts += _section(run.run_dir, section)
    return '\n'.join(parts + [SCRIPT, '</body></html>']) + '\n'
