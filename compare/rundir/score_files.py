"""What scoring writes into a run folder: the tables, summary.md and
report.html, figures/."""
import os

from compare.rundir import precision
from compare.rundir.layout import CSV_ONLY, FIGURES, TABLES
from provenance.tables import frame_to_markdown, sorted_frame


def write_score_table(run_dir, name, frame):
    """Table ``name`` of :data:`TABLES` under ``run_dir``, sorted by its keys,
    every float at its column's precision (:mod:`compare.rundir.precision`);
    returns the sorted frame (unrounded). CSV only for :data:`CSV_ONLY` (a
    stale ``.md`` of an older scoring is removed)."""
    stem = os.path.join(run_dir, name)
    frame = sorted_frame(frame, TABLES[name])
    shown = precision.formatted(frame)
    shown.to_csv(stem + '.csv', index=False, lineterminator='\n')
    if name in CSV_ONLY:
        if os.path.exists(stem + '.md'):
            os.remove(stem + '.md')
    else:
        with open(stem + '.md', 'w', encoding='utf-8', newline='\n') as f:
            f.write(frame_to_markdown(shown))
    return frame


def remove_score_tables(run_dir, keep):
    """Delete the ``.csv``/``.md`` of tables of :data:`TABLES` not in ``keep``
    (left by an earlier scoring that had, e.g., annotations)."""
    for name in TABLES:
        if name in keep:
            continue
        for suffix in ('.csv', '.md'):
            if os.path.exists(os.path.join(run_dir, name + suffix)):
                os.remove(os.path.join(run_dir, name + suffix))


def write_text(run_dir, name, text):
    """``summary.md`` or ``report.html``; returns the path."""
    path = os.path.join(run_dir, name)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    return path


def clear_figures(run_dir):
    """Remove the figures of an earlier scoring (each scoring draws its own set)."""
    folder = os.path.join(run_dir, FIGURES)
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.endswith(('.png', '.jpg')):
                os.remove(os.path.join(folder, name))
