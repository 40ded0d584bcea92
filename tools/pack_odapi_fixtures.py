"""Pack the OD API exports that only the export tests read into one archive.

``odapi_input_types/`` and ``odapi_tf1_zoo/`` hold 36 MB of real exports, most
of it the Keras traces inside each ``saved_model.pb``; xz packs them into
about 1.6 MB. The checkout keeps the archive
(``tests/fixtures/odapi_exports.tar.xz``) and the tests unpack it into a
temporary folder (``tests/compare/test_tf_exports.py``), so the working tree
stays small. The archive is deterministic: members sorted, owner 0, one fixed
mtime, so re-packing the same exports gives the same bytes.

    python tools/pack_odapi_fixtures.py [FIXTURES_DIR]

(``tools/make_odapi_export.sh`` calls it after rebuilding the exports and
then removes the two folders.)
"""
import argparse
import os
import sys
import tarfile

ARCHIVE = 'odapi_exports.tar.xz'
#: The folders packed, relative to the fixtures folder.
FOLDERS = ('odapi_input_types', 'odapi_tf1_zoo')
MTIME = 1767225600  # 2026-01-01T00:00:00Z


def _normalised(info):
    info.uid = info.gid = 0
    info.uname = info.gname = ''
    info.mtime = MTIME
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def pack(fixtures):
    """Write ``<fixtures>/odapi_exports.tar.xz`` from :data:`FOLDERS`; returns its path."""
    path = os.path.join(fixtures, ARCHIVE)
    members = []
    for folder in FOLDERS:
        for root, dirs, files in os.walk(os.path.join(fixtures, folder)):
            dirs.sort()
            members += [os.path.join(root, name) for name in sorted(files)]
    with tarfile.open(path, 'w:xz', preset=9) as archive:
        for member in members:
            archive.add(member, arcname=os.path.relpath(member, fixtures),
                        filter=_normalised)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(prog='tools/pack_odapi_fixtures.py', description=__doc__)
    p.add_argument('fixtures', nargs='?',
                   default=os.path.join(os.path.dirname(__file__), os.pardir, 'tests',
                                        'fixtures'))
    args = p.parse_args(argv)
    print('packed', pack(args.fixtures))
    return 0


if __name__ == '__main__':
    sys.exit(main())
