"""Imports run one way (issue 20): the import-linter contracts of pyproject.toml
hold, and no package has an import cycle between its children, at any level.

The contracts say who may import whom (``replicate/`` never imports
``compare/``; ``compare/score/`` imports neither ``report/`` nor
``adapters/``; the run never imports the shards' launcher; layers inside
``replicate/`` and ``compare/``); the cycle check below is our own, over the
same import graph (grimp's), so a contract that is switched off or loosened
does not hide a cycle. Both see every import in a file, including those inside
functions. The one import they ignore is listed in the ``acyclic`` contract.
"""
import collections
import os

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases

configuration.configure()  # import-linter's own set-up (its command does this on import)
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
PYPROJECT = os.path.join(ROOT, 'pyproject.toml')


def _contracts():
    return use_cases.read_user_options(PYPROJECT).contracts_options


def _ignored_imports():
    """``{(importer, imported)}`` the ``acyclic`` contract ignores."""
    acyclic = next(c for c in _contracts() if c.get('id') == 'acyclic')
    pairs = [line.split('->') for line in acyclic.get('ignore_imports', [])]
    return {(a.strip(), b.strip()) for a, b in pairs}


def sibling_cycles(graph, ignored=()):
    """The import cycles between the children of every package of ``graph``.

    Module ``a`` importing ``b`` makes an edge between the children of their
    deepest common package that hold them (``compare.runner.cli`` importing
    ``compare.shards.merge``: ``runner -> shards`` in ``compare``); imports of
    an ancestor or a descendant make none.

    Returns:
        ``{package: [group, ...]}`` for every package with a cycle, a group
        being the sorted names of two or more children that import each other
        (directly or around a loop).
    """
    edges = collections.defaultdict(lambda: collections.defaultdict(set))
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            if (importer, imported) in ignored:
                continue
            a, b = importer.split('.'), imported.split('.')
            common = 0
            while common < min(len(a), len(b)) and a[common] == b[common]:
                common += 1
            if 0 < common < min(len(a), len(b)):
                edges['.'.join(a[:common])][a[common]].add(b[common])
    groups = {package: _groups(children) for package, children in sorted(edges.items())}
    return {package: found for package, found in groups.items() if found}


def _groups(successors):
    """Strongly connected groups of 2+ nodes (Tarjan), each sorted, sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for after in sorted(successors.get(node, ())):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in on_stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(set(successors) | {n for after in successors.values() for n in after}):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_import_contracts_hold(capsys):
    kept = use_cases.lint_imports(config_filename=PYPROJECT, cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert kept, report
    assert 'BROKEN' not in report and 'KEPT' in report


def test_the_contracts_cover_the_rules_of_issue_20():
    contracts = {c['id']: c for c in _contracts()}
    assert contracts['library']['forbidden_modules'] == ['compare']
    assert set(contracts['score']['forbidden_modules']) == {'compare.report', 'compare.adapters'}
    assert contracts['run']['forbidden_modules'] == ['compare.shards']
    assert set(contracts['acyclic']['ancestors']) == {'replicate', 'compare', 'provenance'}


def test_no_package_has_an_import_cycle_at_any_level():
    graph = grimp.build_graph('replicate', 'compare', 'provenance', cache_dir=None)
    assert sibling_cycles(graph, _ignored_imports()) == {}


def test_the_cycle_check_finds_a_cycle_deep_down(tmp_path, monkeypatch):
    package = tmp_path / 'cyclic'
    (package / 'inner').mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'inner' / '__init__.py').write_text('')
    (package / 'inner' / 'a.py').write_text('def f():\n    from cyclic.inner import b\n')
    (package / 'inner' / 'b.py').write_text('import cyclic.inner.c\n')
    (package / 'inner' / 'c.py').write_text('from cyclic.inner.a import f\n')
    (package / 'top.py').write_text('import cyclic.inner.a\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph('cyclic', cache_dir=None)
    assert sibling_cycles(graph) == {'cyclic.inner': [['a', 'b', 'c']]}
    assert sibling_cycles(graph, {('cyclic.inner.a', 'cyclic.inner.b')}) == {}


@pytest.mark.parametrize('ignored', sorted(_ignored_imports()))
def test_each_ignored_import_is_an_entry_point_that_keeps_a_module_path(ignored):
    importer, _ = ignored
    assert importer.endswith('.__main__')
    path = os.path.join(ROOT, *importer.split('.')) + '.py'
    with open(path) as f:
        assert "if __name__ == '__main__':" in f.read()
