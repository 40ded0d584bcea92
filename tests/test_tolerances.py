"""One table of tolerances (issue 20): replicate/tolerances.py owns every
bound of the parity, ONNX and GPU checks; the checks' code holds no bound of
its own, their help texts quote the table, and tox.ini's fixture tolerance is
the table's."""
import ast
import configparser
import os
import shlex

import pytest
from sourcefiles import ROOT, python_files

from replicate import tolerances
from replicate.tolerances import ODAPI_FIXTURE, ODAPI_PARITY, PARITY_CPU, PARITY_GPU, spelled

#: The checks whose bounds the table holds.
CHECKS = ('replicate/parity', 'replicate/odapi/parity', 'replicate/ort', 'replicate/bench',
          'tools/gpu_check.py', 'tools/gpu_report.py', 'tools/gpu_env.py')
TABLE = {name: value for name, value in vars(tolerances).items()
         if name.isupper() and isinstance(value, float)}
#: (file, value) of a float equal to a tolerance that is not one: why.
NOT_BOUNDS = {('replicate/parity/models.py', 1e-3): 'perturb(): the change that proves the '
                                                    'tool catches a divergence'}


def _files():
    return [os.path.join(ROOT, path) for path in python_files(*CHECKS)]


def test_spelled_as_the_texts_write_it():
    assert [spelled(v) for v in (1e-6, 1e-4, 3e-4, 2.5e-5, 0.1)] == \
        ['1e-6', '1e-4', '3e-4', '2.5e-5', '1e-1']


def test_the_table_is_plain_floats_and_imports_nothing():
    assert TABLE and all(0 < value < 1 for value in TABLE.values())
    with open(tolerances.__file__) as f:
        tree = ast.parse(f.read())
    assert not [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_no_check_holds_a_bound_of_the_table():
    """A float literal equal to a tolerance of the table, in a check's code, is
    the fact restated (prose in strings is not code)."""
    values = set(TABLE.values())
    found = []
    for path in _files():
        with open(path) as f:
            tree = ast.parse(f.read())
        where = os.path.relpath(path, ROOT).replace(os.sep, '/')
        found += ['{}:{}'.format(where, node.lineno) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and type(node.value) is float
                  and node.value in values and (where, node.value) not in NOT_BOUNDS]
    assert found == []


def test_the_help_texts_quote_the_table():
    from replicate.odapi.parity import cli as odapi_cli
    from replicate.parity import cli
    text = ' '.join(cli.parser().format_help().split())
    assert 'default {} on the CPU, {} on a GPU'.format(spelled(PARITY_CPU),
                                                       spelled(PARITY_GPU)) in text
    assert '--rtol above {}'.format(spelled(PARITY_CPU)) in text
    text = ' '.join(odapi_cli.parser().format_help().split())
    assert 'default {}'.format(spelled(ODAPI_PARITY)) in text
    assert '--rtol above {}'.format(spelled(ODAPI_PARITY)) in text


@pytest.mark.parametrize('option', ['--rtol'])
def test_tox_parity_runs_the_fixture_at_the_table_tolerance(option):
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(os.path.join(ROOT, 'tox.ini'))
    commands = tox['testenv:parity']['commands'].replace('\\\n', ' ')
    odapi = next(line for line in commands.splitlines() if 'replicate.odapi.parity' in line)
    words = shlex.split(odapi)
    assert float(words[words.index(option) + 1]) == ODAPI_FIXTURE
