"""The human half of scoring: summary.md, report.html and figures/*.png.

:func:`write_reports` takes a :class:`compare.score.Scored` (the run, the
tables as written, PR curves, ground truth) and writes, under the run dir:

- ``figures/*.png`` (:mod:`compare.report.gallery`, drawn with
  :mod:`compare.report.figures`);
- ``summary.md`` (:mod:`compare.report.markdown`);
- ``report.html``, self-contained (:mod:`compare.report.html`).
"""
import os

from compare.report.gallery import draw_all
from compare.report.html import report_html
from compare.report.markdown import summary_markdown


def write_reports(scored):
    """Draw the figures and write summary.md and report.html; returns their paths."""
    gallery = draw_all(scored)
    paths = []
    for name, text in (('summary.md', summary_markdown(scored, gallery)),
                       ('report.html', report_html(scored, gallery))):
        path = os.path.join(scored.run.run_dir, name)
        with open(path, 'w', encoding='utf-8', newline='\n') as f:
            f.write(text)
        paths.append(path)
    return paths
