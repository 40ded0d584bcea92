"""TF2 Detection Model Zoo archives, fetched into a cache and run as SavedModels.

``tfzoo:ssd_mobilenet_v2_320x320_coco17_tpu-8`` means the archive
``<base URL><name>.tar.gz`` (base ``http://download.tensorflow.org/models/
object_detection/tf2/20200711/``, or ``$SSD_SUITE_TF_ZOO_URL``), extracted as
``<cache>/<name>/saved_model/`` where ``<cache>`` is ``--tf-zoo-dir``, else
``$SSD_SUITE_TF_ZOO_DIR``, else ``~/.cache/ssd-suite/tf_zoo``.

An archive already placed at ``<cache>/<name>.tar.gz``, or already extracted,
is used without the network; otherwise it is downloaded (with the suite's one
downloader, :func:`replicate.pretrained.download`). When that fails, the
error names the URL, the reason and the folder to place the archive in.
Zoo archives do not contain their label map: the COCO map shipped in
``compare/adapters/data/`` is used unless ``labels=`` says otherwise.
"""
import os
import re
import shutil
import tarfile
import tempfile

from compare.adapters import tf_inputs, tf_locate
from compare.adapters.tf_odapi import TFODAPIAdapter
from compare.errors import UserError
from replicate.pretrained import download

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
    """Extract into a temporary folder, then move ``<name>/`` into place."""
    staging = tempfile.mkdtemp(prefix='.extract-', dir=folder)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter='data')  # refuses absolute paths and '..'
        source = os.path.join(staging, name)
        if not os.path.isdir(source):
            raise UserError('archive {} has no top folder {}/'.format(archive, name))
        os.replace(source, os.path.join(folder, name))
    except (tarfile.TarError, OSError) as exc:
        raise UserError('cannot extract {}: {}; delete it and retry'.format(archive, exc)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build_tfzoo(arg, options, settings):
    """``tfzoo:NAME[,labels=PATH|coco][,decode=pil|tf][,name=NAME]``."""
    if not arg or not _NAME.match(arg):
        raise UserError('tfzoo needs an archive name such as '
                        'tfzoo:ssd_mobilenet_v2_320x320_coco17_tpu-8, got {!r}'.format(arg))
    folder = cache_dir(settings.get('tf_zoo_dir'))
    decode = tf_inputs.check_decode(options.pop('decode', None), 'tfzoo:' + arg)
    return TFODAPIAdapter(options.pop('name', 'tfzoo-' + arg), os.path.join(folder, arg),
                          tf_locate.SAVED_MODEL, labels=options.pop('labels', 'coco'),
                          decode=decode, note='TF2 model zoo: ' + archive_url(arg),
                          prepare=lambda: ensure_model(arg, folder))
