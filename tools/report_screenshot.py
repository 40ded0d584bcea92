"""A picture of a report's first screen, taken by a real headless browser.

    python tools/report_screenshot.py reports/sample/report.html reports/sample/screenshot.png

The last step of ``tox -e sample``: Debian's ``chromium-headless-shell``
(``apt-get install -y chromium-headless-shell``) opens ``report.html`` in a
window of ``--width`` x ``--height`` CSS pixels (default 1400 x 1000, the
width ``tests/compare/test_report_page.py`` checks the page at), with every
request that would leave the machine refused, and saves what it shows:
the title, the banner and the headline. The PNG is then scaled to
``--out-width`` pixels (default 1000) and reduced to a 64-colour palette, so
the committed picture stays small (about 100 KB) while its text is still
readable in the README.

Without a browser it says so in one line and exits 0 (the sample's reports
are written; the old picture stays); ``--browser PATH`` names another
Chromium. Exit 2: a bad argument (no such report). Standard library and
Pillow only.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

#: Where Debian's package puts the browser, besides the PATH.
BROWSERS = ('chromium-headless-shell', '/usr/lib/chromium/chromium-headless-shell')
#: A hung browser does not hang the sample job.
TIMEOUT_S = 120
COLOURS = 64


def find_browser(given=None):
    """The browser's path: ``given`` if it is an executable, else the first of
    :data:`BROWSERS` found; None when there is none."""
    for name in ((given,) if given else BROWSERS):
        path = shutil.which(name) or (name if os.path.isfile(name) and
                                      os.access(name, os.X_OK) else None)
        if path:
            return path
    return None


def browser_command(browser, page, png, width, height):
    """The command line that makes ``browser`` save ``page`` as ``png``."""
    return [browser, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
            '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND',   # nothing leaves
            '--window-size={},{}'.format(width, height), '--screenshot=' + png,
            'file://' + os.path.abspath(page)]


def shrink(source, target, out_width):
    """``source`` PNG scaled to ``out_width`` px wide, in a palette, saved as ``target``."""
    from PIL import Image
    with Image.open(source) as image:
        image = image.convert('RGB')
        height = round(image.height * out_width / image.width)
        small = image.resize((out_width, height), Image.LANCZOS)
    small.quantize(COLOURS, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    return small.size


def screenshot(page, png, width=1400, height=1000, out_width=1000, browser=None):
    """Save the first screen of ``page`` as ``png``; returns the browser's path
    and the picture's size, or None (and writes nothing) without a browser."""
    found = find_browser(browser)
    if found is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        raw = os.path.join(folder, 'screen.png')
        done = subprocess.run(browser_command(found, page, raw, width, height),
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        if not os.path.isfile(raw):
            last = (done.stderr.strip().splitlines() or ['no output'])[-1]
            raise RuntimeError('{} saved no picture of {} (exit {}): {}'.format(
                found, page, done.returncode, last))
        size = shrink(raw, png, out_width)
    return found, size


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Save the first screen of a report.html, as a headless browser shows it, '
                    'as a small PNG.')
    parser.add_argument('page', help='the report.html to open')
    parser.add_argument('png', help='the PNG to write')
    parser.add_argument('--width', type=int, default=1400, help='window width (default 1400)')
    parser.add_argument('--height', type=int, default=1000, help='window height (default 1000)')
    parser.add_argument('--out-width', type=int, default=1000,
                        help='width of the saved picture in pixels (default 1000)')
    parser.add_argument('--browser', help='a Chromium to use (default: chromium-headless-shell)')
    args = parser.parse_args(argv)
    if not os.path.isfile(args.page):
        print('error: {} is not a file: give the report.html to photograph (tox -e sample '
              'writes reports/sample/report.html)'.format(args.page), file=sys.stderr)
        return 2
    if not all(100 <= v <= 4000 for v in (args.width, args.height, args.out_width)):
        print('error: --width, --height and --out-width take 100 to 4000 pixels',
              file=sys.stderr)
        return 2
    try:
        found = screenshot(args.page, args.png, args.width, args.height, args.out_width,
                           args.browser)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        print('error: {}'.format(' '.join(str(exc).split())), file=sys.stderr)
        return 1
    if found is None:
        print('screenshot skipped: no headless browser ({}; apt-get install -y '
              'chromium-headless-shell); {} left as it was'.format(
                  args.browser or ' or '.join(BROWSERS), args.png))
        return 0
    print('screenshot: {} ({}x{} px, by {})'.format(args.png, found[1][0], found[1][1], found[0]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
