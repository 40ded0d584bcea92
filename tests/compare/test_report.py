"""summary.md, report.html and the figures."""
import os
import re

import pandas as pd
import pytest
from PIL import Image
from test_score_fakerun import det, entry, write_images, write_run, write_voc_xml

from compare.report.figures import DPI
from compare.rundir.precision import cell as precise
from compare.runner.scoring import score_run

SIZES = {'a.png': (40, 60), 'b.png': (30, 30)}
OUT = {'a.png': [det(5, 5, 20, 30, 'cat', 0.9)], 'b.png': [det(1, 1, 9, 9, 'dog', 0.7)]}
TIMES = [(n, 1, r, s, 0.1 + r / 100) for n in ('ours', 'tf') for r in range(3)
         for s in ('preprocess', 'inference', 'postprocess', 'total')]


def make(tmp_path, annotated=True, images=True, timings=TIMES, state='complete'):
    folder = str(tmp_path / 'images')
    if images:
        write_images(folder, SIZES)
    if annotated:
        write_voc_xml(os.path.join(folder, 'a.xml'), 'a.png', None, [('cat', (6, 6, 31, 21), 0)])
    entries = [entry('ours', ['cat', 'dog'], random_weights=True), entry('tf', ['cat', 'dog']),
               entry('gone', ['cat'], status='failed: weights file missing')]
    return write_run(str(tmp_path / 'run'), {'ours': OUT, 'tf': OUT}, SIZES, entries, timings,
                     images_dir=folder, state=state)


def read(run_dir, name):
    with open(os.path.join(run_dir, name), encoding='utf-8') as f:
        return f.read()


@pytest.fixture(scope='module')
def annotated(tmp_path_factory):
    """``(run_dir, tables)`` of the annotated run, scored once for the tests below."""
    run_dir = make(tmp_path_factory.mktemp('annotated'))
    return run_dir, score_run(run_dir)


def test_summary_has_loud_banners_tables_and_provenance(annotated):
    run_dir, _ = annotated
    text = read(run_dir, 'summary.md')
    assert ('> **⚠ RANDOM WEIGHTS: 1 of the 3 detectors hold untrained weights (named in the '
            'headline): their detections and mAP measure nothing**\n') in text   # one line
    # the headline names them once, as a group
    assert ('- **Random weights**: `ours` holds untrained weights, so its detections and mAP '
            'measure nothing about accuracy.\n') in text
    assert text.count('`ours`') == 1 and '[RANDOM WEIGHTS]' not in text
    assert '⚠ FAILED: gone: failed: weights file missing' in text
    for heading in ('## What ran', '## Agreement', '## Speed', '## Accuracy (mAP)',
                    '## AP per class', '## Provenance'):
        assert heading in text
    assert '+1 pixel' in text and 'excluded from its mean' in text
    assert '| date | 2026-01-01T00:00:00Z |' in text
    assert text.index('RANDOM WEIGHTS') < text.index('## What ran')


def test_html_is_self_contained_with_every_figure(annotated):
    run_dir, _ = annotated
    page = read(run_dir, 'report.html')
    figures = sorted(os.listdir(os.path.join(run_dir, 'figures')))
    assert figures == ['confusion_ours.png', 'confusion_tf.png', 'det_000_ours.jpg',
                       'det_000_tf.jpg', 'det_001_ours.jpg', 'det_001_tf.jpg', 'errors.png',
                       'pr_cat.png', 'speed_accuracy.png', 'sweep.png']
    assert page.count('src="data:image/png;base64,') == 6
    assert page.count('src="data:image/jpeg;base64,') == 4
    assert not re.search(r'src="(?!data:)', page) and '<link' not in page
    assert not re.search(r'(href|src)="https?:', page) and 'url(' not in page
    assert 'class="banner">⚠ RANDOM WEIGHTS' in page
    assert '<table' in page and 'map_voc' in page and 'images_per_s' in page
    assert '<td class="num">' in page and '<td>ours</td>' in page   # text left, numbers right
    for name in figures:
        with Image.open(os.path.join(run_dir, 'figures', name)) as image:
            assert 'Software' not in image.info
            if name.endswith('.jpg'):
                assert image.size[0] == 480   # shown at 360 px, enlarged on click
            else:
                assert image.size[0] <= 11 * DPI and image.size[1] <= 8 * DPI


def test_summary_and_html_carry_the_same_facts(annotated):
    import html as html_module
    run_dir, tables = annotated
    text, page = read(run_dir, 'summary.md'), html_module.unescape(read(run_dir, 'report.html'))
    assert tables['map_summary'].set_index('detector').loc['ours', 'images_unannotated'] == 1
    for title in ('Headline', 'What ran', 'Agreement between detectors', 'Accuracy (mAP)',
                  'AP per class', 'Errors against the ground truth', 'Confusion matrices',
                  'Score threshold sweep', 'Speed (milliseconds)', 'Skipped files', 'Warnings',
                  'Provenance (meta.json)', 'Run arguments'):
        assert '## ' + title in text and '>{}</h2>'.format(title) in page
    headline = [line for line in text.splitlines() if line.startswith('- Operating point: ')]
    assert len(headline) == 1 and headline[0][2:] in page
    assert text.index('## Headline') < text.index('- Operating point: ') < text.index(
        '## What ran')
    for name in ('agreement_summary', 'map_summary', 'coco_summary', 'diagnosis', 'speed'):
        for column, value in tables[name].iloc[0].items():
            if pd.isna(value) or value == '':
                continue
            shown = precise(column, value) if isinstance(value, float) else str(value)
            assert shown in text and shown in page, (name, shown)


def test_without_annotations_images_or_timings_it_says_so(tmp_path):
    run_dir = make(tmp_path, annotated=False, images=False, timings=None)
    tables = score_run(run_dir)
    assert 'map_summary' not in tables and tables['speed'].empty
    text = read(run_dir, 'summary.md')
    assert 'No annotations: no mAP, no error analysis.' in text
    assert 'raw/timings.csv missing' in text
    assert 'a.png: images folder {} not found (boxes drawn on a grey canvas)'.format(
        tmp_path / 'images') in text
    assert 'no speed-against-accuracy chart' in text
    assert sorted(os.listdir(os.path.join(run_dir, 'figures'))) == [
        'det_000_ours.jpg', 'det_000_tf.jpg', 'det_001_ours.jpg', 'det_001_tf.jpg']


def test_an_unfinished_run_says_so_first(tmp_path):
    run_dir = make(tmp_path, state='interrupted')
    score_run(run_dir)
    text = read(run_dir, 'summary.md')
    assert text.splitlines()[2] == ('> **⚠ RUN INTERRUPTED: meta.json says the run did not '
                                    'finish; tables cover the images done so far**')
    assert text.splitlines()[3] == '>'   # one paragraph per banner: one line each


def test_inline_markdown_is_escaped_then_rendered():
    from compare.report.html import inline_markdown
    assert inline_markdown('a `x<y` and **+1 px** & b') == (
        'a <code>x&lt;y</code> and <b>+1 px</b> &amp; b')
    assert inline_markdown('no marks') == 'no marks'
