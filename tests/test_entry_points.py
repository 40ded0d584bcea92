"""The console scripts of pyproject's [project.scripts] (issue 20): each resolves
to a callable, and ``--help`` works through the script installed in this
environment (the tox env installs the project)."""
import importlib.metadata
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: script -> the command it is (what its --help starts with).
SCRIPTS = {'ssd-compare': 'usage: python compare/run.py',
           'ssd-parity': 'usage: python -m replicate.parity',
           'ssd-train': 'usage: python -m replicate.train'}


def _declared():
    """``{name: 'module:function'}`` of pyproject.toml's [project.scripts]."""
    with open(os.path.join(ROOT, 'pyproject.toml')) as f:
        section = f.read().split('\n[project.scripts]\n', 1)[1].split('\n[', 1)[0]
    return dict(re.findall(r'^([\w-]+) = "([\w.:]+)"$', section, re.M))


def _installed():
    try:
        distribution = importlib.metadata.distribution('ssd-suite')
    except importlib.metadata.PackageNotFoundError:
        pytest.skip('the project is not installed here (tox -e py310 installs it)')
    return {ep.name: ep for ep in distribution.entry_points if ep.group == 'console_scripts'}


def test_the_three_tools_are_declared():
    assert sorted(_declared()) == sorted(SCRIPTS)


def test_the_installed_scripts_are_the_declared_ones():
    assert {name: ep.value for name, ep in _installed().items()} == _declared()


@pytest.mark.parametrize('name', sorted(SCRIPTS))
def test_each_entry_point_resolves_to_a_callable(name):
    assert callable(_installed()[name].load())


@pytest.mark.parametrize('name', sorted(SCRIPTS))
def test_help_through_the_installed_script(name):
    _installed()
    script = os.path.join(os.path.dirname(sys.executable), name)
    assert os.access(script, os.X_OK), script
    done = subprocess.run([script, '--help'], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(SCRIPTS[name]) and '--help' in done.stdout
