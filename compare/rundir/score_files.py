"""What scoring writes into a run folder: the tables, summary.md and
report.html, figures/ (every file through :mod:`compare.rundir.files`:
atomically, never through a link)."""
import os
import stat

from compare.rundir import files, precision
from compare.rundir.layout import CSV_ONLY, FIGURES, TABLES, is_figure
from provenance.tables import frame_to_markdown, sorted_frame


def write_score_table(run_dir, name, frame):
    """Table ``name`` of :data:`TABLES` under ``run_dir``, sorted by its keys,
    every float at its column's precision (:mod:`compare.rundir.precision`);
    returns the sorted frame (unrounded). CSV only for :data:`CSV_ONLY` (a
    stale ``.md`` of an older scoring is removed)."""
    stem = os.path.join(run_dir, name)
    frame = sorted_frame(frame, TABLES[name])
    shown = precision.formatted(frame)
    files.write_text(stem + '.csv', shown.to_csv(index=False, lineterminator='\n'))
    if name in CSV_ONLY:
        files.remove(stem + '.md')
    else:
        files.write_text(stem + '.md', frame_to_markdown(shown))
    return frame


def remove_score_tables(run_dir, keep):
    """Delete the ``.csv``/``.md`` of tables of :data:`TABLES` not in ``keep``
    (left by an earlier scoring that had, e.g., annotations)."""
    for name in TABLES:
        if name in keep:
            continue
        for suffix in ('.csv', '.md'):
            files.remove(os.path.join(run_dir, name + suffix))


def write_text(run_dir, name, text):
    """``summary.md`` or ``report.html``; returns the path."""
    path = os.path.join(run_dir, name)
    files.write_text(path, text)
    return path


def clear_figures(run_dir):
    """Remove the figures of an earlier scoring (each scoring draws its own
    set): the entries of ``figures/`` whose names a figure of the report
    takes (:func:`compare.rundir.layout.is_figure`), links included (the
    link, not its target); any other file there is left alone, so the
    figures drawn next are new files. UserError if ``figures`` is a link or
    not a folder."""
    folder = os.path.join(run_dir, FIGURES)
    files.check_folder(folder)
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if is_figure(name) and not stat.S_ISDIR(os.lstat(path).st_mode):
            os.remove(path)
