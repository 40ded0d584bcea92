"""README.md is a front page: short, the two commands near the top, a
findings table that equals what the committed reports say (written by
tools/readme_findings.py), the report's picture, and a map of docs/ that
lists every page. Every relative link of README.md and docs/*.md resolves,
anchors included. The commands of those pages: tests/test_docs_commands.py."""
import glob
import importlib.util
import json
import os
import re
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, 'README.md')
COMMANDS = ('python3 -m pip install "tox>=4.20" "tox-uv>=1.13" && python3 -m tox -e sample',
            'python3 -m pip install "tox>=4.20" "tox-uv>=1.13" && python3 -m tox')
PAGES = sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))

spec = importlib.util.spec_from_file_location(
    'readme_findings', os.path.join(ROOT, 'tools', 'readme_findings.py'))
findings = importlib.util.module_from_spec(spec)
spec.loader.exec_module(findings)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def test_the_front_page_is_short_with_the_two_commands_near_the_top():
    lines = read(README).split('\n')
    assert len(lines) <= 150, '{} lines: move detail to docs/'.format(len(lines))
    for command in COMMANDS:
        assert command in lines[:40], command   # verbatim, on a line of its own
    assert sum(line.startswith('python3 -m pip install') for line in lines) == 2


def test_the_findings_table_says_what_the_reports_say(capsys):
    _, table, _ = findings.split(read(README))
    assert table == findings.table(ROOT), 'run python tools/readme_findings.py --write'
    assert len(table) == 2 + 5 and all(row.count('](reports/') >= 1 for row in table[2:])
    assert findings.main([]) == 0 and 'matches the reports' in capsys.readouterr().out


def _copy(root, paths):
    for path in paths:
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, path), os.path.join(root, path))


def test_a_changed_report_makes_the_table_stale_until_rewritten(tmp_path, capsys):
    meta = 'reports/train/benchmark.meta.json'
    _copy(tmp_path, ['README.md', meta, 'reports/bench/cpu_targets.csv'] +
          ['reports/parity/{}.meta.json'.format(row.parity) for row in findings.PORTS] +
          ['reports/sample/{}.csv'.format(name)
           for name in ('pairs', 'headline', 'map_per_class', 'speed')])
    data = json.loads(read(os.path.join(ROOT, meta)))
    data['map_voc07_test'] = 0.123456
    with open(tmp_path / meta, 'w', encoding='utf-8') as f:
        json.dump(data, f)
    assert findings.main(['--root', str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert '+| 5 | Does our training code learn?' in out and 'mAP 0.123 on' in out
    assert 'run python tools/readme_findings.py --write' in out
    assert findings.main(['--root', str(tmp_path), '--write']) == 0
    assert findings.main(['--root', str(tmp_path)]) == 0
    assert 'VOC07 mAP 0.123 on held-out' in (tmp_path / 'README.md').read_text()
    os.remove(tmp_path / 'reports/sample/speed.csv')
    assert findings.main(['--root', str(tmp_path)]) == 2
    assert 'reports/sample/speed.csv is missing' in capsys.readouterr().err


def test_the_picture_of_the_report_is_there_and_small():
    text = read(README)
    assert '](reports/sample/screenshot.png)' in text
    path = os.path.join(ROOT, 'reports', 'sample', 'screenshot.png')
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert os.path.getsize(path) < 400_000


def test_the_docs_map_lists_every_page():
    text = read(README)
    linked = set(re.findall(r'\]\((docs/[a-z_]+\.md)\)', text))
    assert linked == {os.path.relpath(p, ROOT) for p in PAGES}


def slug(heading):
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return text.replace(' ', '-')


def anchors(path):
    return {slug(m.group(1)) for m in re.finditer(r'^#+ (.+)$', read(path), re.M)}


@pytest.mark.parametrize('page', [README] + PAGES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_relative_link_resolves(page):
    text = re.sub(r'```.*?```', '', read(page), flags=re.S)
    broken = []
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z]+:', target):
            continue   # http(s): not checked here
        path, _, anchor = target.partition('#')
        full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if not os.path.exists(full):
            broken.append(target)
        elif anchor and full.endswith('.md') and anchor not in anchors(full):
            broken.append(target + ' (no such heading)')
    assert broken == []
