"""report.html in a real browser (headless Chromium, Debian's ``chromium``):
every image loads, nothing overflows the page at 1280 or 800 px, pictures of
detections are at least 320 px wide, and the page requests nothing."""
import json
import os
import re
import shutil
import subprocess

import pytest
from test_report import make

from compare.runner.scoring import score_run

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')

PROBE = """
<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images).filter(function (i) {
    return !i.closest('#zoom'); });
  var width = document.documentElement.clientWidth;
  var over = Array.prototype.slice.call(document.body.querySelectorAll('*')).filter(
    function (e) {
      var box = e.getBoundingClientRect();
      return box.right > width + 1 && !e.parentElement.closest('.scroll') &&
        !e.closest('#zoom');
    }).map(function (e) { return e.tagName + '.' + e.className; });
  var result = {
    images: images.length,
    broken: images.filter(function (i) { return !i.complete || i.naturalWidth === 0; })
      .map(function (i) { return i.alt; }),
    narrow: Array.prototype.slice.call(document.querySelectorAll('.gallery img'))
      .filter(function (i) { return i.getBoundingClientRect().width < 320; }).length,
    gallery: document.querySelectorAll('.gallery img').length,
    over: over, scroll_width: document.documentElement.scrollWidth, width: width,
    requests: performance.getEntriesByType('resource').map(function (r) { return r.name; })};
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
</script>
"""


def render(page, width, tmp_path):
    """The probe's findings for ``page`` at a window ``width`` px wide."""
    probed = tmp_path / 'probed_{}.html'.format(width)
    probed.write_text(page.replace('</body>', PROBE + '</body>'), encoding='utf-8')
    result = subprocess.run(
        [CHROMIUM, '--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
         '--host-resolver-rules=MAP * ~NOTFOUND', '--window-size={},900'.format(width),
         '--virtual-time-budget=15000', '--dump-dom', probed.as_uri()],
        capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    return json.loads(found.group(1).replace('&quot;', '"').replace('&amp;', '&'))


@pytest.mark.skipif(CHROMIUM is None, reason='chromium not installed (Debian: apt-get install '
                                             '-y chromium); report.html not checked in a '
                                             'browser')
def test_report_renders_in_chromium(tmp_path):
    run_dir = make(tmp_path)
    meta_path = os.path.join(run_dir, 'meta.json')
    with open(meta_path) as f:
        meta = json.load(f)
    # a detector spec as long as real ones: one unbreakable token in the notes
    meta['args']['detector'] = ['tf:' + 'exports/' * 12 + 'saved_model,name=x,random_weights=yes']
    with open(meta_path, 'w') as f:
        json.dump(meta, f)
    score_run(run_dir)
    with open(os.path.join(run_dir, 'report.html'), encoding='utf-8') as f:
        page = f.read()
    for width in (1280, 800):
        found = render(page, width, tmp_path)
        assert found['images'] == 10 and found['broken'] == [], found
        assert found['gallery'] == 4 and found['narrow'] == 0, found
        assert found['over'] == [] and found['scroll_width'] <= found['width'], found
        assert found['requests'] == [], found
