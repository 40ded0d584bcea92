"""One UserError class and one helper for one-line messages (issue 20): the
harness's errors are the model library's class, every message is one line,
and no module spells the one-line rule again."""
import ast
import os

import pytest
from sourcefiles import ROOT, python_files

import compare.errors
from replicate.errors import InputError, PretrainedModelError, UserError, WeightsError, one_line

PACKAGES = ('replicate', 'compare', 'provenance')


def _sources():
    for path in python_files(*PACKAGES):
        with open(os.path.join(ROOT, path), encoding='utf-8') as f:
            yield path, f.read()


def test_one_line():
    assert one_line(ValueError('bad file\n  x.npz:\tnot an archive \n')) == \
        'bad file x.npz: not an archive'
    assert one_line('') == '' and one_line(KeyError('k')) == "'k'"


@pytest.mark.parametrize('cls', [UserError, InputError, WeightsError, PretrainedModelError])
def test_a_user_error_is_one_line(cls):
    assert str(cls('cannot read x.npz:\nnot an archive; pass\nanother')) == \
        'cannot read x.npz: not an archive; pass another'
    assert str(cls()) == ''


def test_the_harness_raises_the_library_class():
    assert compare.errors.UserError is UserError
    assert compare.errors.is_user_error(WeightsError('w')) and \
        not compare.errors.is_user_error(ValueError('v'))
    with pytest.raises(UserError):
        raise InputError('image of 0 pixels')


def test_one_class_named_user_error():
    defined = [path for path, text in _sources() for node in ast.walk(ast.parse(text))
               if isinstance(node, ast.ClassDef) and node.name == 'UserError']
    assert defined == [os.path.join('replicate', 'errors.py')]


def test_no_module_spells_the_one_line_rule_again():
    """``' '.join(str(x).split())`` is :func:`replicate.errors.one_line`."""
    again = []
    for path, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == 'join' and isinstance(node.func.value, ast.Constant)
                    and node.func.value.value == ' ' and len(node.args) == 1
                    and isinstance(node.args[0], ast.Call)
                    and isinstance(node.args[0].func, ast.Attribute)
                    and node.args[0].func.attr == 'split' and not node.args[0].args
                    and path != os.path.join('replicate', 'errors.py')):
                again.append('{}:{}'.format(path, node.lineno))
    assert again == []
