"""ChainerCV's pretrained SSD300 files: the one table of their facts, where
they are cached, the one downloader, and the one-line error when a file is
neither cached nor downloadable.

Everything that names a pretrained file goes through here: the model
(``SSD300(pretrained_model='voc0712')``), the parity tool
(``--weights voc0712``) and the comparison harness (``-d ours:voc0712``,
``-d chainercv:voc0712``, and the default detectors' choice).

Cache: ``<dataset root>/pfnet/chainercv/models/<file>``, the dataset root
being ``chainer.dataset.get_dataset_root()``: what
``chainer.dataset.set_dataset_root()`` set last, else
``$CHAINER_DATASET_ROOT`` as it was when chainer was imported, else
``~/.chainer/dataset``. ChainerCV looks in the same place, so a file
downloaded by either is used by both.
"""
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass

from replicate.errors import PretrainedModelError, one_line

#: Seconds to wait for a download server before giving up.
TIMEOUT_S = 30
#: The opener used for downloads (tests replace it to simulate no network).
urlopen = urllib.request.urlopen
#: Where ChainerCV 0.13.1 serves its model files.
SERVER = 'https://chainercv-models.preferred.jp/'


@dataclass(frozen=True)
class PretrainedFile:
    """One of ChainerCV's pretrained SSD300 weight files.

    Attributes:
        file: its name, in the cache folder and on :data:`SERVER`.
        n_fg_class: the only ``n_fg_class`` it fits, or None for any (the
            file has no heads).
        optional: key prefixes the file lacks; those parameters keep their
            initial values.
    """
    file: str
    n_fg_class: int = None
    optional: tuple = ()

    @property
    def url(self):
        return SERVER + self.file


#: name -> file, as ChainerCV's ``SSD300._models`` names them.
PRETRAINED = {
    'voc0712': PretrainedFile('ssd300_voc0712_converted_2017_06_06.npz', n_fg_class=20),
    # VGG-16 trained on ImageNet: the base only, no norm4 / extras / heads
    'imagenet': PretrainedFile(
        'ssd_vgg16_imagenet_converted_2017_06_09.npz',
        optional=('extractor/norm4/', 'extractor/conv8_', 'extractor/conv9_',
                  'extractor/conv10_', 'extractor/conv11_', 'multibox/')),
}


def models_dir():
    """ChainerCV's model cache folder (see the module docstring; not created here)."""
    import chainer  # here: the harness lists this module's models without importing Chainer
    return os.path.join(chainer.dataset.get_dataset_root(), 'pfnet', 'chainercv', 'models')


def cached_path(name, table=None):
    """Where the file of pretrained model ``name`` of ``table`` (default
    :data:`PRETRAINED`, SSD300's; SSD512 has its own) is (or would be) cached."""
    table = PRETRAINED if table is None else table
    return os.path.join(models_dir(), table[name].file)


def is_cached(name):
    """Whether the file of pretrained model ``name`` is in the cache folder."""
    return os.path.isfile(cached_path(name))


def download(url, path, timeout=TIMEOUT_S):
    """Fetch ``url`` to ``path`` through a temporary file next to it, renamed
    at the end, so an interrupted download never leaves a partial file at
    ``path``. The suite's one downloader (the TF model zoo uses it too).

    Raises:
        OSError: ``urllib.error.URLError``, a timeout, a refused connection
            or a file system error; nothing is left behind.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, suffix='.part')
    try:
        with os.fdopen(handle, 'wb') as out, urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def fetch(name, table=None):
    """Path of pretrained model ``name`` of ``table`` (default
    :data:`PRETRAINED`): the cached file, else downloaded.

    Raises:
        PretrainedModelError: one line naming the file, its URL, the folder
            to place it in and why the download failed.
    """
    table = PRETRAINED if table is None else table
    path = cached_path(name, table)
    if os.path.isfile(path):
        return path
    entry = table[name]
    try:
        download(entry.url, path)
    except OSError as error:
        reason = getattr(error, 'reason', None) or error
        raise PretrainedModelError(
            'pretrained weights {!r} ({}) are not in {} and cannot be downloaded ({}): '
            'download {} and place it in that folder, or pass the path of an .npz '
            'instead'.format(name, entry.file, models_dir(), one_line(reason),
                             entry.url)) from None
    return path
