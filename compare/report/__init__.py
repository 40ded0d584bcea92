"""The human half of scoring: summary.md, report.html and figures/.

:func:`write_reports` takes a :class:`compare.score.scorer.Scored` (the run,
the tables as written, PR curves, ground truth) and writes, under the run
folder (through :mod:`compare.rundir`):

- ``figures/*.png`` charts (:mod:`compare.report.figures`) and ``*.jpg``
  pictures of detections (:mod:`compare.report.overlays`), chosen by
  :mod:`compare.report.gallery`;
- ``summary.md`` (:mod:`compare.report.markdown`) and ``report.html``,
  self-contained (:mod:`compare.report.html`), both rendering the sections of
  :mod:`compare.report.sections`, so they carry the same facts.
"""
from compare import rundir
from compare.report.gallery import draw_all
from compare.report.html import report_html
from compare.report.markdown import summary_markdown


def write_reports(scored):
    """Draw the figures and write summary.md and report.html; returns their paths."""
    gallery = draw_all(scored)
    run_dir = scored.run.run_dir
    return [rundir.write_text(run_dir, rundir.SUMMARY, summary_markdown(scored, gallery)),
            rundir.write_text(run_dir, rundir.REPORT, report_html(scored, gallery))]
