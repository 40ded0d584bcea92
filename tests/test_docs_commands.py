"""Every command in the ```bash blocks of README.md and docs/*.md names
something that exists: a tox environment of tox.ini, a module that imports,
a script in the repository, an installed command of pyproject.toml; every
``--option`` it passes is in that program's ``--help``, and each program's
``--help`` runs (in this process: seconds, not a process per program).
Commands of other programs (apt-get, pip, ...) are allowed from a short list.
Every import of the ```python blocks resolves."""
import ast
import configparser
import contextlib
import glob
import importlib
import importlib.metadata
import importlib.util
import io
import os
import re
import runpy
import shlex
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))
#: Programs that are not ours, which a page may tell a reader to run.
OTHERS = {'apt-get', 'pip', 'pyenv', 'cd', 'uv'}
#: Launchers whose own options come before the command they start.
LAUNCHERS = {'mpiexec', 'sudo'}
PYTHONS = re.compile(r'^(python3?(\.\d+)?|\.tox/[a-z0-9_-]+/bin/python)$')
SEPARATORS = {'&&', '||', '|', ';'}


def _blocks(language):
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            text = f.read()
        for block in re.finditer(r'^ *```{}\n(.*?)^ *```'.format(language), text, re.M | re.S):
            yield os.path.relpath(page, ROOT), block.group(1)


def commands():
    """``(page, command line, tokens)`` of every simple command of every bash block."""
    found = []
    for page, block in _blocks('bash'):
        for line in re.sub(r'\\\n', ' ', block).split('\n'):
            tokens = shlex.split(line, comments=True)
            simple = []
            for token in tokens + [';']:
                if token in SEPARATORS:
                    if simple:
                        found.append((page, line.strip(), simple))
                    simple = []
                else:
                    simple.append(token)
    return found


def _tox_envs():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(ROOT, 'tox.ini'))
    return {s.split(':', 1)[1] for s in parser.sections() if s.startswith('testenv:')} | {
        'py310'}


def _scripts():
    """``{command: 'module:function'}`` of the installed project's console scripts."""
    entries = importlib.metadata.distribution('ssd-suite').entry_points
    return {e.name: e.value for e in entries if e.group == 'console_scripts'}


def program(tokens):
    """``(kind, target, args)`` of a command: kind ``module``, ``script``,
    ``entry`` (an installed command), ``tox`` or ``other``."""
    while tokens and (re.match(r'^[A-Z_][A-Z0-9_]*=', tokens[0]) or tokens[0] in LAUNCHERS):
        if tokens[0] in LAUNCHERS:   # skip to the program it starts
            tokens = tokens[1:]
            while tokens and not PYTHONS.match(tokens[0]) and tokens[0] not in OTHERS:
                tokens = tokens[1:]
        else:
            tokens = tokens[1:]
    head, args = tokens[0], tokens[1:]
    if head in _scripts():
        return 'entry', head, args
    if head == 'source':
        return 'source', args[0], []
    if head in OTHERS:
        return 'other', head, args
    assert PYTHONS.match(head), 'unknown program {!r}: add it to OTHERS if it is not ours'.format(
        head)
    if args[:1] == ['-m']:
        if args[1] == 'tox':
            return 'tox', 'tox', args[2:]
        if args[1] == 'pip':
            return 'other', 'pip', args[2:]
        return 'module', args[1], args[2:]
    return 'script', args[0], args[1:]


def options(args):
    return sorted({a.split('=', 1)[0] for a in args if a.startswith('--')})


CASES = commands()


def test_the_pages_have_commands():
    assert len(CASES) >= 40 and {page for page, _, _ in CASES} >= {
        'README.md', 'docs/running.md', 'docs/parity.md', 'docs/training.md'}


@pytest.mark.parametrize('page,line,tokens', CASES, ids=[
    '{}:{}'.format(page, line[:60]) for page, line, _ in CASES])
def test_each_command_names_something_that_exists(page, line, tokens):
    kind, target, args = program(tokens)
    if kind == 'tox':
        env = args[args.index('-e') + 1] if '-e' in args else 'py310'
        assert env in _tox_envs(), '{}: no tox environment {}'.format(line, env)
    elif kind == 'module':
        assert importlib.util.find_spec(target) is not None, '{}: no module {}'.format(line,
                                                                                      target)
    elif kind == 'script':
        assert os.path.isfile(os.path.join(ROOT, target)), '{}: no file {}'.format(line, target)
    elif kind == 'source':
        assert re.match(r'^\.tox/([a-z0-9_-]+)/bin/activate$', target) and \
            target.split('/')[1] in _tox_envs(), line


def _run_help(kind, target):
    """The ``--help`` text of a program of ours, run in this process."""
    argv, out = sys.argv, io.StringIO()
    name = target if kind != 'entry' else _scripts()[target]
    sys.argv = [name, '--help']
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as stop:
            if kind == 'module':
                runpy.run_module(target, run_name='__main__', alter_sys=True)
            elif kind == 'script':
                runpy.run_path(os.path.join(ROOT, target), run_name='__main__')
            else:
                module, _, function = name.partition(':')
                getattr(importlib.import_module(module), function)()
    finally:
        sys.argv = argv
    assert stop.value.code in (0, None), '{} --help exited {}'.format(target, stop.value.code)
    return out.getvalue()


PROGRAMS = {}
for _page, _line, _tokens in CASES:
    _kind, _target, _args = program(_tokens)
    if _kind in ('module', 'script', 'entry'):
        PROGRAMS.setdefault((_kind, _target), set()).update(options(_args))


@pytest.mark.parametrize('kind,target', sorted(PROGRAMS), ids=[t for _, t in sorted(PROGRAMS)])
def test_each_program_s_help_runs_and_knows_the_options_the_pages_give(kind, target):
    text = _run_help(kind, target)
    assert text.startswith('usage:'), text[:200]
    unknown = [o for o in sorted(PROGRAMS[kind, target]) if o != '--help' and
               not re.search(r'(?<![\w-]){}(?![\w-])'.format(re.escape(o)), text)]
    assert unknown == [], '{}: options not in its --help: {}'.format(target, unknown)


def test_every_import_of_the_python_blocks_resolves():
    names = []
    for page, block in _blocks('python'):
        for node in ast.walk(ast.parse(textwrap.dedent(block))):
            if isinstance(node, ast.ImportFrom):
                module = importlib.import_module(node.module)
                names += [(page, node.module, a.name) for a in node.names
                          if not hasattr(module, a.name)]
    assert names == []
