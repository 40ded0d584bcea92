"""Rebuild images/: six public-domain / CC0 photographs shipped inside
scikit-image and matplotlib, plus Pascal VOC XML annotations for them.

Run with an interpreter that has the two distributions installed at the
versions below (their data files are the sources), e.g.:

    uv venv -p 3.10 /tmp/imgs && uv pip install --python /tmp/imgs/bin/python \
        scikit-image==0.25.2 matplotlib==3.10.9 pillow==12.3.0 numpy==1.26.4
    /tmp/imgs/bin/python tools/make_sample_images.py images

Each source is found inside its installed distribution (by the path its
wheel's RECORD lists, without importing the package), its version checked
and its SHA-256 compared with the one recorded here before it is read
(scikit-image's own registry, ``skimage/data/_registry.py``, lists the same
digests). JPEG sources are copied byte for byte; PNG sources are re-encoded
as JPEG (quality 90, RGB; camera.png is grayscale and becomes 3 equal
channels). No image is resized. Last, the SHA-256 of every written image is
compared with the block in this checkout's images/LICENSES.md (re-encoded
files depend on the Pillow version: a difference is reported, exit status 1).

The boxes below were drawn by hand, by looking at each image with a pixel
grid (the convention: images/README.md), never from a detector's output.
They are VOC 1-based pixel coordinates (xmin, ymin, xmax, ymax), inclusive,
as in VOC's own XML files.
"""
import collections
import hashlib
import importlib.metadata
import os
import re
import shutil
import sys
from xml.sax.saxutils import escape

#: A data file inside an installed distribution.
Source = collections.namedtuple('Source', 'distribution version path sha256')

SKIMAGE = ('scikit-image', '0.25.2')
MATPLOTLIB = ('matplotlib', '3.10.9')

# stem -> (Source, objects)
# object: (class name, pose, truncated, difficult, (xmin, ymin, xmax, ymax))
# Classes: VOC names, and 'face' (a human face; see images/README.md).
SAMPLES = {
    'astronaut': (Source(*SKIMAGE, 'skimage/data/astronaut.png',
                         '88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5'), [
        ('person', 'Frontal', 1, 0, (20, 17, 363, 512)),
        ('face', 'Frontal', 0, 0, (177, 78, 275, 181))]),
    'camera': (Source(*SKIMAGE, 'skimage/data/camera.png',
                      'b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a'), [
        ('person', 'Right', 1, 0, (1, 65, 331, 512)),
        # a profile: left ear to nose tip; the camcorder's eyepiece covers the eye
        ('face', 'Right', 0, 0, (181, 129, 255, 201))]),
    'chelsea': (Source(*SKIMAGE, 'skimage/data/chelsea.png',
                       '596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb'), [
        ('cat', 'Frontal', 1, 0, (1, 1, 399, 300))]),
    # A cup on a saucer on a wooden counter: no VOC class (negative image).
    'coffee': (Source(*SKIMAGE, 'skimage/data/coffee.png',
                      'cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7'), []),
    'grace_hopper': (Source(*MATPLOTLIB, 'matplotlib/mpl-data/sample_data/grace_hopper.jpg',
                            'a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130'), [
        ('person', 'Frontal', 1, 0, (14, 25, 512, 600)),
        # the cap's brim hides the hairline: the top is the forehead below it
        ('face', 'Frontal', 0, 0, (156, 133, 375, 327))]),
    # A rocket on its launch pad at dusk: no VOC class (negative image).
    'rocket': (Source(*SKIMAGE, 'skimage/data/rocket.jpg',
                      'c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c'), []),
}


def sha256_of(path):
    """Hex SHA-256 of a file's bytes."""
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def source_path(source):
    """The verified path of ``source`` inside its installed distribution.

    Exits with a one-line message when the distribution is missing or another
    version, or the file is absent or differs from the recorded SHA-256.
    """
    fix = 'install {}=={}'.format(source.distribution, source.version)
    try:
        dist = importlib.metadata.distribution(source.distribution)
    except importlib.metadata.PackageNotFoundError:
        sys.exit('error: {} is not installed ({})'.format(source.distribution, fix))
    if dist.version != source.version:
        sys.exit('error: {} {} is installed, the sample is made from {} ({})'.format(
            source.distribution, dist.version, source.version, fix))
    path = str(dist.locate_file(source.path))
    if not os.path.isfile(path):
        sys.exit('error: {} has no file {} ({})'.format(source.distribution, source.path, fix))
    found = sha256_of(path)
    if found != source.sha256:
        sys.exit('error: {} has SHA-256 {}, expected {} ({})'.format(path, found,
                                                                    source.sha256, fix))
    return path


def copy_as_jpeg(src, dst):
    """Copy a JPEG unchanged, or re-encode another format as RGB JPEG q90.
    Returns (width, height)."""
    from PIL import Image
    with Image.open(src) as im:
        size = im.size
        if src.lower().endswith('.jpg'):
            shutil.copyfile(src, dst)
        else:
            im.convert('RGB').save(dst, quality=90)
    return size


def object_xml(name, pose, truncated, difficult, box):
    """One VOC <object> element as text; box is 1-based (xmin, ymin, xmax, ymax)."""
    xmin, ymin, xmax, ymax = box
    return ('\t<object>\n\t\t<name>%s</name>\n\t\t<pose>%s</pose>\n'
            '\t\t<truncated>%d</truncated>\n\t\t<difficult>%d</difficult>\n'
            '\t\t<bndbox>\n\t\t\t<xmin>%d</xmin>\n\t\t\t<ymin>%d</ymin>\n'
            '\t\t\t<xmax>%d</xmax>\n\t\t\t<ymax>%d</ymax>\n\t\t</bndbox>\n'
            '\t</object>\n' % (escape(name), pose, truncated, difficult,
                               xmin, ymin, xmax, ymax))


def annotation_xml(filename, width, height, objects):
    """A whole VOC annotation file as text (depth is always 3)."""
    for obj in objects:
        xmin, ymin, xmax, ymax = obj[4]
        assert 1 <= xmin < xmax <= width and 1 <= ymin < ymax <= height, obj
    return ('<annotation>\n\t<folder>images</folder>\n'
            '\t<filename>%s</filename>\n'
            '\t<source>\n\t\t<database>ssd-suite sample images</database>\n'
            '\t</source>\n'
            '\t<size>\n\t\t<width>%d</width>\n\t\t<height>%d</height>\n'
            '\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n'
            '%s</annotation>\n' % (escape(filename), width, height,
                                   ''.join(object_xml(*o) for o in objects)))


#: The record of the committed sample (images/LICENSES.md of this checkout).
RECORD = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'images',
                      'LICENSES.md')


def recorded_sha256():
    """``{file name: sha256}`` from the SHA-256 block of :data:`RECORD`
    (``<64 hex>  <name>`` lines)."""
    with open(RECORD) as f:
        return {m.group(2): m.group(1)
                for m in re.finditer(r'^([0-9a-f]{64})  (\S+)$', f.read(), re.M)}


def main(out_dir):
    os.makedirs(os.path.join(out_dir, 'Annotations'), exist_ok=True)
    recorded, differ = recorded_sha256(), []
    for stem, (source, objects) in sorted(SAMPLES.items()):
        filename = stem + '.jpg'
        target = os.path.join(out_dir, filename)
        width, height = copy_as_jpeg(source_path(source), target)
        xml_path = os.path.join(out_dir, 'Annotations', stem + '.xml')
        with open(xml_path, 'w') as f:
            f.write(annotation_xml(filename, width, height, objects))
        digest = sha256_of(target)
        print('%s  %s  (%dx%d, %d object(s))' % (digest, filename, width, height,
                                                 len(objects)))
        if recorded.get(filename) != digest:
            differ.append(filename)
    if differ:
        sys.exit('error: SHA-256 of {} differ from the block in images/LICENSES.md '
                 '(another Pillow version re-encodes differently): update the block if '
                 'intended'.format(', '.join(differ)))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: make_sample_images.py OUT_DIR')
    main(sys.argv[1])
