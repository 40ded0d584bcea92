"""report.html in a real headless browser (Debian's ``chromium-headless-shell``,
driven by playwright) at a 1,400 px window: the headline is there as
sentences, nothing overflows the page sideways (wide tables scroll inside
their own box), and the text of the pictures of detections reads at >= 12 px
at the size shown. Checked on a scored run made here and on the committed
sample (reports/sample/report.html)."""
import os
import shutil

import pytest
from test_report import make

from compare.report import overlays
from compare.runner.scoring import score_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIDTH = 1400
BROWSER = (shutil.which('chromium-headless-shell') or
           next((p for p in ('/usr/lib/chromium/chromium-headless-shell',)
                 if os.path.exists(p)), None))
SAMPLE = os.path.join(ROOT, 'reports', 'sample', 'report.html')

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the test extra installs it
    sync_playwright = None

pytestmark = pytest.mark.skipif(
    BROWSER is None or sync_playwright is None,
    reason='no headless browser: apt-get install -y chromium-headless-shell (and playwright, '
           'in the test extra); report.html not opened in a browser')

#: What the page looks like to a reader, measured in the page itself.
PROBE = """() => {
  const width = document.documentElement.clientWidth;
  const over = Array.from(document.body.querySelectorAll('*')).filter((e) => {
    const box = e.getBoundingClientRect();
    return box.right > width + 1 && !e.parentElement.closest('.scroll') &&
      !e.closest('#zoom');
  }).map((e) => e.tagName + '.' + e.className);
  const headline = document.querySelector('#findings');
  return {
    width: width, scroll_width: document.documentElement.scrollWidth, over: over,
    headline: headline ? Array.from(headline.children).map((li) => li.innerText) : null,
    headline_top: headline ? headline.getBoundingClientRect().top : null,
    gallery: Array.from(document.querySelectorAll('.gallery img')).map(
      (i) => [i.getBoundingClientRect().width, i.naturalWidth]),
    broken: Array.from(document.images).filter(
      (i) => !i.closest('#zoom') && (!i.complete || i.naturalWidth === 0)).length,
    wide_tables: Array.from(document.querySelectorAll('table')).filter(
      (t) => !t.parentElement.classList.contains('scroll')).length,
  };
}"""


@pytest.fixture(scope='module')
def browser():
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=BROWSER)
        yield chromium
        chromium.close()


def probe(browser, path):
    page = browser.new_page(viewport={'width': WIDTH, 'height': 900})
    try:
        page.route('**/*', lambda route: route.abort() if not route.request.url.startswith(
            ('file:', 'data:')) else route.continue_())   # nothing leaves the page
        page.goto('file://' + os.path.abspath(path))
        page.wait_for_load_state('load')
        return page.evaluate(PROBE)
    finally:
        page.close()


def _assert_reads(found):
    assert found['scroll_width'] <= found['width'] == WIDTH, found
    assert found['over'] == [], found['over'][:10]
    assert found['broken'] == 0 and found['wide_tables'] == 0, found
    for shown, natural in found['gallery']:   # overlay text >= 12 px as shown
        assert overlays.FONT * shown / natural >= 12, (shown, natural)


def test_a_scored_run_reads_at_1400_px(tmp_path, browser):
    run_dir = make(tmp_path)
    score_run(run_dir, pair=['ours=tf'])
    found = probe(browser, os.path.join(run_dir, 'report.html'))
    _assert_reads(found)
    assert found['gallery'], found
    headline = found['headline']
    assert headline is not None and found['headline_top'] < 900, found   # on the first screen
    # ours holds random weights: its pair is under the random-weights sentence, named once
    assert headline[0].startswith('Random weights: ours holds untrained weights, so its '
                                  'detections and mAP measure nothing'), headline
    assert '\nours == tf: 2 of 2 detections identical on 2 images' in headline[0], headline
    assert any(line.startswith('Operating point: score >= 0.5') for line in headline), headline


@pytest.mark.skipif(not os.path.exists(SAMPLE), reason='no committed sample report')
def test_the_committed_sample_reads_at_1400_px(browser):
    found = probe(browser, SAMPLE)
    _assert_reads(found)
    assert found['headline'], 'reports/sample/report.html has no headline (#findings)'
