"""Rebuild images/: six public-domain / CC0 photographs shipped inside
scikit-image and matplotlib, plus Pascal VOC XML annotations for them.

Run with an interpreter that has scikit-image and matplotlib installed (their
data files are the sources), e.g.:

    uv venv /tmp/imgs && uv pip install --python /tmp/imgs/bin/python \
        scikit-image==0.25.2 matplotlib==3.10.9
    /tmp/imgs/bin/python tools/make_sample_images.py images

JPEG sources are copied byte for byte; PNG sources are re-encoded as JPEG
(quality 90, RGB; camera.png is grayscale and becomes 3 equal channels).
No image is resized (all are at most 640 pixels on a side already).

The boxes below were drawn by hand, by looking at each image with a pixel
grid (see images/LICENSES.md). They are VOC 1-based pixel coordinates
(xmin, ymin, xmax, ymax), inclusive, as in VOC's own XML files.
"""
import os
import shutil
import sys
from xml.sax.saxutils import escape

# stem -> (package, path inside the package, objects)
# object: (VOC class name, pose, truncated, difficult, (xmin, ymin, xmax, ymax))
SAMPLES = {
    'astronaut': ('skimage', 'data/astronaut.png', [
        ('person', 'Frontal', 1, 0, (20, 16, 362, 512))]),
    'camera': ('skimage', 'data/camera.png', [
        ('person', 'Unspecified', 1, 0, (1, 65, 331, 512))]),
    'chelsea': ('skimage', 'data/chelsea.png', [
        ('cat', 'Frontal', 1, 0, (1, 1, 399, 300))]),
    # A cup on a saucer on a wooden counter: no VOC class (negative image).
    'coffee': ('skimage', 'data/coffee.png', []),
    'grace_hopper': ('matplotlib', 'mpl-data/sample_data/grace_hopper.jpg', [
        ('person', 'Frontal', 1, 0, (13, 26, 512, 600))]),
    # A rocket on its launch pad at dusk: no VOC class (negative image).
    'rocket': ('skimage', 'data/rocket.jpg', []),
}


def source_path(package, relpath):
    """Absolute path of a data file inside an installed package."""
    module = __import__(package)
    return os.path.join(os.path.dirname(module.__file__), relpath)


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


def main(out_dir):
    os.makedirs(os.path.join(out_dir, 'Annotations'), exist_ok=True)
    for stem, (package, relpath, objects) in sorted(SAMPLES.items()):
        filename = stem + '.jpg'
        width, height = copy_as_jpeg(source_path(package, relpath),
                                     os.path.join(out_dir, filename))
        xml_path = os.path.join(out_dir, 'Annotations', stem + '.xml')
        with open(xml_path, 'w') as f:
            f.write(annotation_xml(filename, width, height, objects))
        print('%s %dx%d %d object(s)' % (filename, width, height, len(objects)))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: make_sample_images.py OUT_DIR')
    main(sys.argv[1])
