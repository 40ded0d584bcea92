"""tools/report_screenshot.py, the last step but one of ``tox -e sample``: a
real headless browser photographs a page (skipped where Debian's
chromium-headless-shell is missing), the picture is small and not blank;
without a browser, one line and exit 0; a missing page is a one-line error."""
import importlib.util
import os

import numpy as np
import pytest
from PIL import Image

TOOLS = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, 'tools')
spec = importlib.util.spec_from_file_location(
    'report_screenshot', os.path.join(TOOLS, 'report_screenshot.py'))
shot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shot)

PAGE = ('<!doctype html><html><body style="margin:0;background:#fff">'
        '<div style="width:200px;height:100px;background:#000"></div>'
        '<h1>Headline</h1><img src="http://example.invalid/x.png"></body></html>')


def test_without_a_browser_it_says_so_and_leaves_the_picture(tmp_path, capsys):
    page, png = tmp_path / 'report.html', tmp_path / 'shot.png'
    page.write_text(PAGE)
    assert shot.main([str(page), str(png), '--browser', str(tmp_path / 'no-browser')]) == 0
    out = capsys.readouterr().out
    assert out.startswith('screenshot skipped: no headless browser (') and out.count('\n') == 1
    assert 'apt-get install -y chromium-headless-shell' in out and not png.exists()


def test_bad_arguments_are_one_line(tmp_path, capsys):
    assert shot.main([str(tmp_path / 'missing.html'), str(tmp_path / 'x.png')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'missing.html is not a file' in err
    (tmp_path / 'p.html').write_text(PAGE)
    assert shot.main([str(tmp_path / 'p.html'), str(tmp_path / 'x.png'), '--width', '5']) == 2
    assert capsys.readouterr().err.count('\n') == 1


@pytest.mark.skipif(shot.find_browser() is None,
                    reason='no headless browser: apt-get install -y chromium-headless-shell')
def test_a_real_browser_photographs_the_page(tmp_path, capsys):
    page, png = tmp_path / 'report.html', tmp_path / 'shot.png'
    page.write_text(PAGE)
    assert shot.main([str(page), str(png), '--width', '400', '--height', '300',
                      '--out-width', '200']) == 0
    assert capsys.readouterr().out.startswith('screenshot: {} (200x150 px, by '.format(png))
    with Image.open(png) as image:
        assert image.size == (200, 150) and image.mode == 'P'
        pixels = np.asarray(image.convert('L'))
    # the black box (the page's top-left 200 x 100 CSS px) is black, the rest mostly white
    assert pixels[:45, :95].max() < 40 and np.median(pixels[60:, 120:]) > 200
