"""Run-folder file names are spelled only in compare/rundir/ (issue 20): no other
module of compare/ (nor the tool that copies a run's tables) holds one in its
code. Prose (docstrings, messages naming a file for the user) is not code: only
a string that IS a name or a pattern of names counts."""
import ast
import os
import re

from compare import rundir

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
#: A string constant that is a run-folder file name or pattern.
NAME = re.compile(r'^(\*?[\w.-]*\.(jsonl|identity\.json|error\.txt)|meta\.json|raw|lock|netout|'
                  r'shards|summary\.md|report\.html|figures|shard\.json|timings\.csv|'
                  r'benchmark\.csv|skipped\.csv|\{\}-of-\{\}|.*\(\\d\+\)-of-.*|'
                  r'(%s)\.(csv|md))$' % '|'.join(rundir.TABLES))


def _sources():
    yield os.path.join(ROOT, 'tools', 'train_benchmark.py')
    for root, dirs, files in os.walk(os.path.join(ROOT, 'compare')):
        dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '__')) and d != 'rundir')
        yield from sorted(os.path.join(root, name) for name in files if name.endswith('.py'))


def test_the_pattern_knows_the_names():
    for name in ('meta.json', 'raw', '*.jsonl', 'x.identity.json', '*.error.txt', '{}-of-{}',
                 'map_summary.csv', 'headline.md', 'summary.md', 'report.html', 'shards'):
        assert NAME.match(name), name
    assert not NAME.match('compare/run.py') and not NAME.match('see raw/skipped.csv')


def test_only_the_run_folder_package_spells_its_file_names():
    found = []
    for path in _sources():
        with open(path) as f:
            tree = ast.parse(f.read())
        docs = {id(node.body[0].value) for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                and ast.get_docstring(node, clean=False) is not None}
        found += ['{}:{}: {!r}'.format(os.path.relpath(path, ROOT), node.lineno, node.value)
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docs and NAME.match(node.value)]
    assert found == []
