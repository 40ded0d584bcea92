"""ChainerCV's pretrained SSD300 files: where they are cached, how they are
fetched, and the one-line error when neither works.

Cache: ``<dataset root>/pfnet/chainercv/models/<file name>``, the dataset root
being ``chainer.dataset.get_dataset_root()`` ($CHAINER_DATASET_ROOT, default
~/.chainer/dataset) - the same place ChainerCV looks, so a file downloaded by
either is used by both.
"""
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass

import chainer

from replicate.errors import PretrainedModelError

#: Seconds to wait for the download server before giving up.
TIMEOUT_S = 30
#: The opener used for downloads (tests replace it to simulate no network).
urlopen = urllib.request.urlopen


@dataclass(frozen=True)
class PretrainedFile:
    url: str
    # None: any n_fg_class (the file has no heads); otherwise the only one
    n_fg_class: int = None
    # key prefixes the file lacks; those parameters keep their random values
    optional: tuple = ()


_SERVER = 'https://chainercv-models.preferred.jp/'
PRETRAINED = {
    'voc0712': PretrainedFile(_SERVER + 'ssd300_voc0712_converted_2017_06_06.npz',
                              n_fg_class=20),
    # VGG-16 trained on ImageNet: the base only, no norm4 / extras / heads
    'imagenet': PretrainedFile(
        _SERVER + 'ssd_vgg16_imagenet_converted_2017_06_09.npz',
        optional=('extractor/norm4/', 'extractor/conv8_', 'extractor/conv9_',
                  'extractor/conv10_', 'extractor/conv11_', 'multibox/')),
}


def models_dir():
    """ChainerCV's model cache folder (not created here)."""
    return os.path.join(chainer.dataset.get_dataset_root(),
                        'pfnet', 'chainercv', 'models')


def cached_path(name):
    """Where the file of pretrained model ``name`` is (or would be) cached."""
    return os.path.join(models_dir(), os.path.basename(PRETRAINED[name].url))


def download(url, path):
    """Fetch ``url`` to a temporary file next to ``path``, then rename it, so
    an interrupted download never leaves a partial file at ``path``."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, suffix='.part')
    try:
        with os.fdopen(handle, 'wb') as out, urlopen(url, timeout=TIMEOUT_S) as response:
            shutil.copyfileobj(response, out)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def fetch(name):
    """Path of pretrained model ``name``: the cached file, else downloaded.

    Raises:
        PretrainedModelError: one line with the URL, the path to place the file
            at, and that a path can be passed instead.
    """
    path = cached_path(name)
    if os.path.exists(path):
        return path
    url = PRETRAINED[name].url
    try:
        download(url, path)
    except OSError as error:  # URLError, timeouts and refused connections
        raise PretrainedModelError(
            'cannot download pretrained model {!r} ({}): download {} and place '
            'it at {}, or pass the path of the .npz as pretrained_model='.format(
                name, ' '.join(str(error).split()), url, path)) from None
    return path
