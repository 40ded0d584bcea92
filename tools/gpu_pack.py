"""Pack what the GPU check needs into ``.gpu_pack/`` (git-ignored), here.

Run on a machine with ChainerCV and the package index (Python 3.10 env):

    .tox/py310/bin/python tools/gpu_pack.py

It writes, under ``--pack`` (default ``.gpu_pack``):

1. ``reference_random_b2.npz``: ChainerCV 0.13.1's outputs on the CPU for the
   GPU parity (``python -m replicate.parity --save-reference ... --batch 2
   --sample 32768``: seeded random weights, every layer as SHA-256 + max
   |value| + 32768 sampled elements, the detections whole; about 13 MB);
2. ``wheels/``: Chainer 7.8.1 built from its sdist (``setuptools<70``, no
   build isolation, in a throwaway venv: the GPU machine has no Chainer and no
   index), plus pure-Python fallbacks (six, filelock, typing-extensions,
   packaging at the versions pinned in ``requirements/py312.txt``), unpacked
   there only where the module is missing;
3. ``MANIFEST.json``: every file with its size and SHA-256, the commit, the
   commands; the total must stay under 60 MB.

``tools/gpu_check.py`` reads it (standard library only, so this module is
imported there too).
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACK = '.gpu_pack'
MANIFEST = 'MANIFEST.json'
REFERENCE = 'reference_random_b2.npz'
BUDGET_BYTES = 60 * 10 ** 6
#: provenance.stamp.COMMIT_ENV: the commit a copy of the tree without git reports.
COMMIT_ENV = 'SSD_SUITE_COMMIT'
CHAINER = 'chainer==7.8.1'
#: Pure-Python packages Chainer imports; carried in case the machine lacks one.
FALLBACKS = ('filelock', 'packaging', 'six', 'typing-extensions')


class PackError(Exception):
    """A one-line problem with the pack, naming the file and the fix."""


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


PINS = os.path.join(ROOT, 'requirements', 'py312.txt')


def pinned_versions(requirements=PINS):
    """``{name: version}`` of the ``name==version`` lines of a pinned file."""
    pins = {}
    with open(requirements) as f:
        for line in f:
            match = re.match(r'^([A-Za-z0-9_.-]+)==([^\s;]+)', line)
            if match:
                pins[match.group(1).lower()] = match.group(2)
    return pins


def wheel_info(path):
    """``(top-level modules, pure)`` of a wheel: the importable names it
    installs and whether it is pure Python (``Root-Is-Purelib: true``, tag
    ``py3-none-any`` or ``py2.py3-none-any``)."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        wheel_meta = next((n for n in names if n.endswith('.dist-info/WHEEL')), None)
        text = z.read(wheel_meta).decode() if wheel_meta else ''
    modules = sorted({n.split('/')[0] if '/' in n else os.path.splitext(n)[0] for n in names
                      if '.dist-info/' not in n and '.data/' not in n})
    pure = 'Root-Is-Purelib: true' in text and bool(
        re.search(r'^Tag: (py3|py2\.py3)-none-any$', text, re.M))
    return modules, pure


def build_wheels(out_dir, log=print):
    """Chainer's wheel (from its sdist, setuptools<70, no build isolation)
    and the fallbacks, into ``out_dir``; needs the package index."""
    os.makedirs(out_dir, exist_ok=True)
    pins = pinned_versions()
    with tempfile.TemporaryDirectory(prefix='gpu_pack_venv_') as venv:
        python = os.path.join(venv, 'bin', 'python')
        steps = [[sys.executable, '-m', 'venv', venv],
                 [python, '-m', 'pip', 'install', '-q', 'setuptools<70', 'wheel'],
                 [python, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation',
                  '-w', out_dir, CHAINER],
                 [python, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary', ':all:',
                  '--python-version', '3.12', '-d', out_dir]
                 + ['{}=={}'.format(n, pins[n]) for n in sorted(FALLBACKS)]]
        for step in steps:
            log('  $ ' + ' '.join(step[2:] if step[0] == python else step))
            subprocess.run(step, check=True)


def manifest_entry(pack, relative, role):
    path = os.path.join(pack, relative)
    entry = {'file': relative, 'bytes': os.path.getsize(path), 'sha256': sha256(path),
             'role': role}
    if relative.endswith('.whl'):
        entry['modules'], pure = wheel_info(path)
        if not pure:
            raise PackError('{} is not a pure-Python wheel: only those travel'.format(path))
    return entry


def git_blob_sha1(path):
    """The id git gives the file's content (``git hash-object``): SHA-1 of
    ``b'blob <size>\\0' + content``, computable where git is absent."""
    with open(path, 'rb') as f:
        content = f.read()
    return hashlib.sha1(b'blob %d\0' % len(content) + content).hexdigest()


def tracked_tree(root=ROOT):
    """``{path: blob sha1}`` of the tracked files outside ``reports/``, as the
    index holds them: the copy of the tree the check runs in is compared
    with it, so its reports can name the commit they ran (see
    :func:`tree_commit`)."""
    listing = subprocess.run(['git', 'ls-files', '-s', '-z', '--', '.', ':(exclude)reports'],
                             cwd=root, capture_output=True, check=True).stdout.decode()
    tree = {}
    for record in filter(None, listing.split('\0')):
        meta, path = record.split('\t', 1)
        tree[path] = meta.split()[1]
    return tree


def tree_commit(manifest, root=ROOT):
    """``(commit, differing paths)``: the pack's commit when every tracked file
    recorded in the manifest has the same content under ``root``, else that
    commit marked ``+dirty`` (the reports then do not claim it)."""
    commit = manifest['commit']
    differing = sorted(path for path, blob in manifest.get('tree', {}).items()
                       if not os.path.isfile(os.path.join(root, path))
                       or git_blob_sha1(os.path.join(root, path)) != blob)
    if not manifest.get('tree'):
        differing = ['(the manifest records no tree: remake the pack)']
    if differing and not commit.endswith('+dirty'):
        commit += '+dirty'
    return commit, differing


def write_manifest(pack, commit, commands):
    """Describe every file of ``pack``; returns the manifest dict.

    Raises:
        PackError: the reference or Chainer's wheel is missing, or the pack
            is over :data:`BUDGET_BYTES`.
    """
    entries = []
    if not os.path.isfile(os.path.join(pack, REFERENCE)):
        raise PackError('{} missing: run tools/gpu_pack.py'.format(os.path.join(pack, REFERENCE)))
    entries.append(manifest_entry(pack, REFERENCE, 'reference'))
    wheels = sorted(os.listdir(os.path.join(pack, 'wheels'))) \
        if os.path.isdir(os.path.join(pack, 'wheels')) else []
    for name in wheels:
        role = 'always' if name.lower().startswith('chainer-') else 'if-missing'
        entries.append(manifest_entry(pack, 'wheels/' + name, role))
    if not any(e['role'] == 'always' for e in entries):
        raise PackError('no chainer wheel in {}: run tools/gpu_pack.py'.format(
            os.path.join(pack, 'wheels')))
    total = sum(e['bytes'] for e in entries)
    if total > BUDGET_BYTES:
        raise PackError('{} holds {:.1f} MB, over the {:.0f} MB budget: use a smaller '
                        '--sample'.format(pack, total / 1e6, BUDGET_BYTES / 1e6))
    manifest = {'commit': commit, 'total_bytes': total, 'files': entries,
                'tree': tracked_tree(),
                'commands': commands,
                'date': datetime.datetime.now(datetime.timezone.utc).strftime(
                    '%Y-%m-%dT%H:%M:%SZ')}
    with open(os.path.join(pack, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write('\n')
    return manifest


def read_manifest(pack):
    """The manifest, with every file checked against its size and SHA-256.

    Raises:
        PackError: the pack, a file or the manifest is missing or altered.
    """
    path = os.path.join(pack, MANIFEST)
    fix = 'make it with tools/gpu_pack.py where ChainerCV is installed and carry {}'.format(pack)
    if not os.path.isfile(path):
        raise PackError('{} not found: {}'.format(path, fix))
    try:
        with open(path) as f:
            manifest = json.load(f)
        entries = manifest['files']
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PackError('{} unreadable ({}): {}'.format(path, exc, fix)) from None
    for entry in entries:
        file = os.path.join(pack, entry['file'])
        if not os.path.isfile(file) or os.path.getsize(file) != entry['bytes'] \
                or sha256(file) != entry['sha256']:
            raise PackError('{} is missing or differs from {}: {}'.format(file, path, fix))
    return manifest


def unpack_wheel(wheel, site):
    """Extract a pure-Python wheel into ``site`` (what ``pip install
    --target`` does for one: its files already have their installed layout).

    Raises:
        PackError: a member would land outside ``site``.
    """
    site_real = os.path.realpath(site)
    with zipfile.ZipFile(wheel) as z:
        for member in z.namelist():
            target = os.path.realpath(os.path.join(site, member))
            if os.path.isabs(member) or not target.startswith(site_real + os.sep):
                raise PackError('{}: member {!r} points outside the install folder'
                                .format(wheel, member))
        z.extractall(site)


def main(argv=None):
    p = argparse.ArgumentParser(prog='tools/gpu_pack.py', description=__doc__.split('\n')[0])
    p.add_argument('--pack', default=os.path.join(ROOT, PACK), help='output folder')
    p.add_argument('--sample', type=int, default=32768,
                   help='sampled elements per large record in the reference')
    p.add_argument('--reference-from', metavar='NPZ',
                   help='copy this reference instead of running ChainerCV')
    p.add_argument('--wheels-from', metavar='DIR',
                   help='copy these wheels instead of building them')
    args = p.parse_args(argv)
    os.makedirs(os.path.join(args.pack, 'wheels'), exist_ok=True)
    reference = os.path.join(args.pack, REFERENCE)
    ref_cmd = [sys.executable, '-m', 'replicate.parity', '--save-reference', reference,
               '--batch', '2', '--sample', str(args.sample)]
    commands = {'reference': ' '.join(['python'] + ref_cmd[1:3] + [
        '--save-reference', os.path.join(PACK, REFERENCE)] + ref_cmd[5:])}
    try:
        if args.reference_from:
            if os.path.realpath(args.reference_from) != os.path.realpath(reference):
                shutil.copyfile(args.reference_from, reference)
        else:
            print('reference: ChainerCV on the CPU -> {}'.format(reference))
            subprocess.run(ref_cmd, check=True, cwd=ROOT)
        wheels = os.path.join(args.pack, 'wheels')
        for old in os.listdir(wheels):
            os.remove(os.path.join(wheels, old))
        if args.wheels_from:
            for name in os.listdir(args.wheels_from):
                if name.endswith('.whl'):
                    shutil.copyfile(os.path.join(args.wheels_from, name),
                                    os.path.join(wheels, name))
        else:
            print('wheels -> {}'.format(wheels))
            build_wheels(wheels)
        sys.path.insert(0, ROOT)
        from provenance.stamp import git_commit
        manifest = write_manifest(args.pack, git_commit(), commands)
    except (PackError, OSError, subprocess.CalledProcessError) as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return 2
    print('packed {} files, {:.1f} MB, into {} (commit {})'.format(
        len(manifest['files']), manifest['total_bytes'] / 1e6, args.pack, manifest['commit']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
