"""summary.md: the sections of :mod:`compare.report.sections` as Markdown.

Banners first, one paragraph each (so a Markdown viewer shows one per line),
then the headline (its sentences as a list), then every section's notes and
tables (floats at the tables' precision, :mod:`compare.rundir.precision`); charts
are linked (``figures/...``), the drawn detections are in report.html only.
Nothing here depends on the clock: the only date is the run's own provenance
from meta.json, so re-scoring a run gives the same file.
"""
from compare.report.sections import banners, sections
from compare.rundir.precision import formatted
from provenance.tables import frame_to_markdown


def _section(section):
    lines = ['', '## ' + section.title, '']
    for note in section.notes:
        lines += [note, '']
    lines += ['- ' + line for line in section.lines]
    for finding in section.findings:
        lines.append('- ' + finding.text)
        lines += ['  - ' + child for child in finding.children]
    if section.lines or section.findings:
        lines.append('')
    for caption, frame in section.tables:
        if caption:
            lines += [caption + ':', '']
        if frame is None or frame.empty:
            lines += ['(none)', '']
        else:
            lines += [frame_to_markdown(formatted(frame)).rstrip('\n'), '']
    if section.markdown_figures:
        lines += ['![{}]({})'.format(caption, path) for caption, path in section.figures]
    elif section.figures:
        lines += ['The pictures of this section are in [report.html](report.html).']
    return lines


def summary_markdown(scored, gallery):
    """The text of summary.md."""
    run = scored.run
    lines = ['# Detector comparison: {}'.format(run.run_dir.rstrip('/').split('/')[-1]), '']
    for banner in banners(run):
        # one paragraph per line, so a Markdown viewer shows them as lines
        lines += ['> **{}**'.format(banner[0]), '>'] + sum(
            (['> - {}'.format(line)] for line in banner[1:]), [])
        lines += ['>'] if len(banner) == 1 else ['']
    while lines[-1] == '>':
        lines.pop()
    for section in sections(scored, gallery):
        lines += _section(section)
    text = '\n'.join(lines)
    while '\n\n\n' in text:
        text = text.replace('\n\n\n', '\n\n')
    return text.rstrip('\n') + '\n'
