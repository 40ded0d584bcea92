"""Parsing a command's options imports no framework: ``--help`` and every
refused option answer without loading Chainer, ChainerCV, TensorFlow or
matplotlib (they load with the detectors, the scorer and the report). Each
module is imported in a fresh interpreter, which then lists the heavy
packages it holds. ``import replicate`` itself loads Chainer only when one
of its public names is first used."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ('chainer', 'chainercv', 'tensorflow', 'matplotlib', 'onnxruntime', 'openvino', 'cv2')
#: the modules whose parser every command builds before anything else
PARSERS = ('compare.runner.cli', 'compare.runner.scoring', 'compare.shards.merge',
           'compare.export.__main__')


@pytest.mark.parametrize('module', PARSERS)
def test_building_the_options_imports_no_framework(module):
    code = ('import importlib, json, sys; importlib.import_module({!r}); '
            'print(json.dumps(sorted(m for m in {!r} if m in sys.modules)))').format(
                module, HEAVY)
    done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []


@pytest.mark.parametrize('command', [['compare/run.py'], ['-m', 'compare.score'],
                                     ['-m', 'compare.merge'], ['-m', 'compare.export']])
def test_help_imports_no_framework(command):
    # the whole command, options built and --help printed, in an interpreter
    # that reports what it imported when it exits
    code = ('import atexit, json, runpy, sys; atexit.register(lambda: print(json.dumps(sorted('
            'm for m in {!r} if m in sys.modules)), file=sys.stderr)); sys.argv = {!r}; '
            'runpy.run_path(sys.argv[0], run_name="__main__") if sys.argv[0].endswith(".py") '
            'else runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)').format(
                HEAVY, [command[-1], '--help'])
    done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and 'usage:' in done.stdout, done.stderr[-2000:]
    assert json.loads(done.stderr.splitlines()[-1]) == []


def test_replicate_names_load_on_first_use():
    code = ('import sys, replicate; before = "chainer" in sys.modules; '
            'names = [getattr(replicate, n) for n in replicate.__all__]; '
            'print(before, "chainer" in sys.modules, len(names), '
            'hasattr(replicate, "no_such_name"), replicate.train.__name__)')
    done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # Chainer only when a public name is asked for; every public name resolves
    assert done.stdout.split() == ['False', 'True', str(len(_all_names())), 'False',
                                   'replicate.train']


def _all_names():
    import replicate
    return replicate.__all__
