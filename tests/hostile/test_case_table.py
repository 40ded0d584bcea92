"""The table of the hostile suite (tests/hostile/cases.py) accounts for all 102
cases of the former tools/hostile_check.py: each case names tests that exist,
and every test of tests/hostile/test_<class>.py proves some case."""
import ast
import collections
import functools
import os

import pytest
from cases import CASES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLASS_FILES = ('test_untrusted_files.py', 'test_run_folder_state.py', 'test_user_mistakes.py')


@functools.lru_cache(maxsize=None)
def defined_tests(path):
    """Names of the module-level ``test_*`` functions of ``path`` (relative to the root)."""
    with open(os.path.join(ROOT, path)) as f:
        tree = ast.parse(f.read())
    return frozenset(node.name for node in tree.body
                     if isinstance(node, ast.FunctionDef) and node.name.startswith('test_'))


def test_the_table_holds_the_102_cases_by_class():
    assert len(CASES) == len({name for name, _, _ in CASES}) == 102
    assert collections.Counter(klass for _, klass, _ in CASES) == {
        'A untrusted files': 23, 'B run folder': 28, 'C user mistakes': 51}


@pytest.mark.parametrize('name, klass, proofs', CASES, ids=[case[0] for case in CASES])
def test_the_case_is_proven_by_tests_that_exist(name, klass, proofs):
    assert proofs
    for proof in proofs:
        path, function = proof.split('::')
        assert function in defined_tests(path), proof
        if path.startswith('tests/hostile/'):  # named after the case it proves
            assert function == 'test_' + name or name in open(os.path.join(ROOT, path)).read(), \
                proof


def test_every_test_of_the_suite_proves_a_case():
    named = {proof for _, _, proofs in CASES for proof in proofs}
    for filename in CLASS_FILES:
        path = 'tests/hostile/' + filename
        for function in defined_tests(path):
            assert '{}::{}'.format(path, function) in named, function
