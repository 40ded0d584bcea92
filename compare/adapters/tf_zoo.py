"""TF2 Detection Model Zoo archives, fetched into a cache and run as SavedModels.

``tfzoo:ssd_mobilenet_v2_320x320_coco17_tpu-8`` means the archive
``<base URL><name>.tar.gz`` (base ``http://download.tensorflow.org/models/
object_detection/tf2/20200711/``, or ``$SSD_SUITE_TF_ZOO_URL``), extracted as
``<cache>/<name>/saved_model/`` where ``<cache>`` is ``--tf-zoo-dir``, else
``$SSD_SUITE_TF_ZOO_DIR``, else ``~/.cache/ssd-suite/tf_zoo``.

An archive already placed at ``<cache>/<name>.tar.gz``, or already extracted,
is used without the network; otherwise it is downloaded (with the suite's one
downloader, :func:`replicate.ssd.pretrained.download`). When that fails, the
error names the URL, the reason and the folder to place the archive in.
Zoo archives do not contain their label map: the COCO map shipped in
``compare/adapters/data/`` is used unless ``labels=`` says otherwise.

An archive is untrusted input: before anything is written, every member must
be a regular file or a folder under ``<name>/`` (no links of any kind, no
devices, no absolute paths, no ``..``), and the members and their total size
are bounded (:mod:`compare.limits`); anything else refuses the whole archive,
with one line naming it. The members are then extracted with tarfile's
``data`` filter as a second guard. A model in the cache that does not load
says to delete it (it is extracted again from the archive).
"""
import os
import posixpath
import re
import shutil
import tarfile
import tempfile

from compare.adapters import tf_inputs, tf_locate
from compare.adapters.tf_odapi import TFODAPIAdapter
from compare.errors import UserError, is_user_error
from compare.limits import MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS, mib
from replicate.errors import one_line
from replicate.ssd.pretrained import download

DEFAULT_BASE_URL = 'http://download.tensorflow.org/models/object_detection/tf2/20200711/'
_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')


def cache_dir(option=None):
    """The zoo cache folder (see module doc for the order)."""
    return option or os.environ.get('SSD_SUITE_TF_ZOO_DIR') or os.path.join(
        os.path.expanduser('~'), '.cache', 'ssd-suite', 'tf_zoo')


def archive_url(name):
    return os.environ.get('SSD_SUITE_TF_ZOO_URL', DEFAULT_BASE_URL) + name + '.tar.gz'


def ensure_model(name, folder, timeout=30):
    """Path of ``<folder>/<name>``, downloading/extracting it if needed."""
    target = os.path.join(folder, name)
    if os.path.isfile(os.path.join(target, 'saved_model', 'saved_model.pb')):
        return target
    archive = os.path.join(folder, name + '.tar.gz')
    if not os.path.isfile(archive):
        _download(archive_url(name), archive, folder, name, timeout)
    _extract(archive, folder, name)
    if not os.path.isfile(os.path.join(target, 'saved_model', 'saved_model.pb')):
        raise UserError('archive {} did not contain {}/saved_model/saved_model.pb'.format(
            archive, name))
    return target


def _download(url, archive, folder, name, timeout):
    try:
        download(url, archive, timeout=timeout)
    except OSError as exc:
        reason = getattr(exc, 'reason', None) or exc
        raise UserError('cannot download {} ({}); fetch it elsewhere and place it in {} (as {} '
                        'or extracted as {}/saved_model/)'.format(
                            url, reason, folder, os.path.basename(archive),
                            os.path.join(folder, name))) from None


def _extract(archive, folder, name):
    """Check every member, extract into a temporary folder, then move
    ``<name>/`` into place."""
    target = os.path.join(folder, name)
    if os.path.lexists(target):
        raise UserError('{} exists but holds no saved_model/saved_model.pb: delete it and retry '
                        '(it is extracted again from {})'.format(target, archive))
    staging = tempfile.mkdtemp(prefix='.extract-', dir=folder)
    try:
        with tarfile.open(archive) as tar:
            members = checked_members(tar, archive, name)
            tar.extractall(staging, members=members, filter='data')
        source = os.path.join(staging, name)
        if not os.path.isdir(source):
            raise UserError('archive {} has no top folder {}/'.format(archive, name))
        os.replace(source, target)
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise UserError('cannot extract {}: {}; delete it and retry'.format(
            archive, one_line(exc))) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def checked_members(tar, archive, name):
    """The members of ``tar``, each a file or folder under ``<name>/``, within
    the limits; UserError naming the archive and the first member that is not."""
    members, total = [], 0
    for member in tar:
        problem = _member_problem(member, name)
        if problem is None and len(members) == MAX_ARCHIVE_MEMBERS:
            problem = 'more than {} members'.format(MAX_ARCHIVE_MEMBERS)
        total += member.size if member.isfile() else 0
        if problem is None and total > MAX_ARCHIVE_BYTES:
            problem = 'more than {} once extracted'.format(mib(MAX_ARCHIVE_BYTES))
        if problem:
            raise UserError('refused archive {}: {}; nothing was extracted (a model archive holds '
                            'only files and folders under {}/): delete it and fetch it again'
                            .format(archive, problem, name))
        members.append(member)
    return members


def _member_problem(member, name):
    """Why ``member`` may not be extracted, or None."""
    path = posixpath.normpath(member.name)
    if member.name.startswith('/') or path == '..' or path.startswith('../') or \
            not (path == name or path.startswith(name + '/')):
        return 'member {!r} lies outside {}/'.format(member.name[:200], name)
    if not (member.isfile() or member.isdir()):
        kind = ('a symbolic link' if member.issym() else 'a hard link' if member.islnk()
                else 'a device or pipe')
        return 'member {!r} is {}'.format(member.name[:200], kind)
    return None


class ZooModel:
    """A zoo SavedModel adapter whose load failure says how to clean the cache
    (the rest is delegated)."""

    def __init__(self, adapter, folder):
        self.adapter, self.folder = adapter, folder
        self.name, self.order = adapter.name, adapter.order
        # what the adapter takes (compare.adapters.protocol.inputs_for)
        self.reads_files = getattr(adapter, 'reads_files', False)

    def load(self):
        try:
            return self.adapter.load()
        except Exception as exc:
            if not is_user_error(exc) or 'SavedModel' not in str(exc):
                raise
            raise UserError('{} (it is in the TF zoo cache: delete {} and retry, to extract it '
                            'again)'.format(exc, self.folder)) from None

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> the adapter's Prediction."""
        return self.adapter.predict(images)

    def info(self):
        return self.adapter.info()


def build_tfzoo(arg, options, settings):
    """``tfzoo:NAME[,labels=PATH|coco][,decode=pil|tf][,name=NAME]``."""
    if not arg or not _NAME.match(arg):
        raise UserError('tfzoo needs an archive name such as '
                        'tfzoo:ssd_mobilenet_v2_320x320_coco17_tpu-8, got {!r}'.format(arg))
    folder = cache_dir(settings.get('tf_zoo_dir'))
    decode = tf_inputs.check_decode(options.pop('decode', None), 'tfzoo:' + arg)
    adapter = TFODAPIAdapter(options.pop('name', 'tfzoo-' + arg), os.path.join(folder, arg),
                             tf_locate.SAVED_MODEL, labels=options.pop('labels', 'coco'),
                             decode=decode, note='TF2 model zoo: ' + archive_url(arg),
                             prepare=lambda: ensure_model(arg, folder))
    return ZooModel(adapter, os.path.join(folder, arg))
