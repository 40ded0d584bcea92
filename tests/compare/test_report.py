"""summary.md, report.html and the figures."""
import os
import re

from PIL import Image
from test_score_fakerun import det, entry, write_images, write_run, write_voc_xml

from compare.report.figures import DPI
from compare.score import score_run

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


def test_summary_has_loud_banners_tables_and_provenance(tmp_path):
    run_dir = make(tmp_path)
    score_run(run_dir)
    text = read(run_dir, 'summary.md')
    assert ('⚠ RANDOM WEIGHTS: detections and mAP from ours are meaningless, the run only '
            'exercises the pipeline') in text
    assert 'from tf are meaningless' not in text
    assert '⚠ FAILED: gone: failed: weights file missing' in text
    for heading in ('## What ran', '## Agreement', '## Speed', '## Accuracy (mAP)',
                    '## AP per class', '## Provenance'):
        assert heading in text
    assert '+1 pixel' in text and 'excluded from its mean' in text
    assert '| date | 2026-01-01T00:00:00Z |' in text
    assert text.index('RANDOM WEIGHTS') < text.index('## What ran')


def test_html_is_self_contained_with_every_figure(tmp_path):
    run_dir = make(tmp_path)
    score_run(run_dir)
    page = read(run_dir, 'report.html')
    figures = sorted(os.listdir(os.path.join(run_dir, 'figures')))
    assert figures == ['detections_000.png', 'detections_001.png', 'pr_ours.png', 'pr_tf.png',
                       'speed_accuracy.png']
    assert page.count('src="data:image/png;base64,') == len(figures)
    assert not re.search(r'src="(?!data:)', page) and '<link' not in page
    assert 'class="banner">⚠ RANDOM WEIGHTS' in page
    assert '<table' in page and 'map_voc' in page and 'images_per_s' in page
    for name in figures:
        with Image.open(os.path.join(run_dir, 'figures', name)) as image:
            assert 'Software' not in image.info
            assert image.size[0] <= 3 * 3.2 * DPI + 1 and image.size[1] <= 3.4 * DPI + 1


def test_without_annotations_images_or_timings_it_says_so(tmp_path):
    run_dir = make(tmp_path, annotated=False, images=False, timings=None)
    tables = score_run(run_dir)
    assert 'map_summary' not in tables and tables['speed'].empty
    text = read(run_dir, 'summary.md')
    assert 'No annotations: no mAP.' in text
    assert 'raw/timings.csv missing' in text
    assert 'a.png: images folder {} not found (boxes drawn on a grey canvas)'.format(
        tmp_path / 'images') in text
    assert 'no speed-against-accuracy chart' in text
    assert sorted(os.listdir(os.path.join(run_dir, 'figures'))) == ['detections_000.png',
                                                                     'detections_001.png']


def test_an_unfinished_run_says_so_first(tmp_path):
    run_dir = make(tmp_path, state='interrupted')
    score_run(run_dir)
    text = read(run_dir, 'summary.md')
    assert text.splitlines()[2] == ('> **⚠ RUN INTERRUPTED: meta.json says the run did not '
                                    'finish; tables cover the images done so far**')


def test_inline_markdown_is_escaped_then_rendered():
    from compare.report.html import inline_markdown
    assert inline_markdown('a `x<y` and **+1 px** & b') == (
        'a <code>x&lt;y</code> and <b>+1 px</b> &amp; b')
    assert inline_markdown('no marks') == 'no marks'
