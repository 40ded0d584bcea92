"""A generated detection dataset: coloured shapes on procedural textures,
written as a Pascal VOC folder so that training reads it with the real loader.

``python -m replicate.datasets.synthetic OUT [--seed S] [--train N] [--val N]
[--test N]`` writes OUT/JPEGImages, Annotations, ImageSets/Main/{train,val,
test}.txt, label_names.txt and generator.json. Image i of the whole set is a
function of (seed, i) alone, so the same command always writes the same files.

Each image is 200-320 pixels a side with a texture background (fractal
noise, marble, wood rings or noisy bricks) and 1-4 objects of five classes
(:data:`CLASSES`), side 10-50% of the image's shorter side, aspect 0.75-1.33,
random colour with a contrast floor, shaded, placed with IoU <= 0.2 between
objects. Boxes are the tight bounds of each drawn shape.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image, ImageDraw

from replicate.datasets.voc import write_voc, write_voc_annotation

CLASSES = ('circle', 'square', 'triangle', 'cross', 'star')
SPLITS = (('train', 2000), ('val', 200), ('test', 500))
#: Supersampling of the shape masks (anti-aliased edges).
SUPERSAMPLE = 4
MAX_OVERLAP = 0.2
VERSION = 1


# -- textures: float32 (H, W, 3) in [0, 255] ---------------------------------

def fractal_noise(rng, height, width, octaves=5):
    """Sum of bicubically upsampled random grids, 1/2 amplitude per octave,
    scaled to [0, 1]; float32 (H, W)."""
    out = np.zeros((height, width), np.float32)
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.random((cells, cells)).astype(np.float32)
        out += cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) / 2 ** octave
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _two_colours(rng, noise):
    """Blend two random colours by ``noise`` (H, W) in [0, 1]."""
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    return noise[:, :, None] * a + (1 - noise[:, :, None]) * b


def texture(rng, height, width):
    """One of four procedural textures, chosen by ``rng``."""
    kind = rng.integers(4)
    noise = fractal_noise(rng, height, width)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == 0:  # stone / clouds
        pattern = noise
    elif kind == 1:  # marble: stripes bent by turbulence
        angle = rng.uniform(0, np.pi)
        along = xx * np.cos(angle) + yy * np.sin(angle)
        pattern = 0.5 + 0.5 * np.sin(along * rng.uniform(0.03, 0.12) + 8 * noise)
    elif kind == 2:  # wood: rings around a point off the image, bent by noise
        cy, cx = rng.uniform(-height, 2 * height), rng.uniform(-width, 2 * width)
        radius = np.hypot(yy - cy, xx - cx)
        pattern = 0.5 + 0.5 * np.sin(radius * rng.uniform(0.1, 0.3) + 4 * noise)
    else:  # bricks with mortar, plus noise
        bh, bw = rng.integers(12, 30), rng.integers(24, 60)
        row = (yy // bh).astype(int)
        shifted = xx + (row % 2) * bw / 2
        mortar = ((yy % bh) < 2) | ((shifted % bw) < 2)
        pattern = np.where(mortar, 0.1, 0.7 + 0.3 * noise)
    return _two_colours(rng, pattern.astype(np.float32)).astype(np.float32)


# -- shapes ------------------------------------------------------------------

def _polygon(name, rng):
    """Vertices of a unit shape in [0, 1]^2 (x, y), or None for the circle."""
    if name == 'square':
        return [(0, 0), (1, 0), (1, 1), (0, 1)]
    if name == 'triangle':
        apex = rng.uniform(0.2, 0.8)
        return [(apex, 0), (1, 1), (0, 1)]
    if name == 'cross':
        t = rng.uniform(0.28, 0.4)
        a, b = 0.5 - t / 2, 0.5 + t / 2
        return [(a, 0), (b, 0), (b, a), (1, a), (1, b), (b, b), (b, 1), (a, 1), (a, b),
                (0, b), (0, a), (a, a)]
    if name == 'star':
        angles = -np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, 0.5, 0.5 * rng.uniform(0.38, 0.5))
        return list(zip(0.5 + radii * np.cos(angles), 0.5 + radii * np.sin(angles), strict=True))
    return None


def shape_mask(name, rng, height, width):
    """Anti-aliased mask float32 (height, width) in [0, 1] of shape ``name``
    filling its box."""
    big = Image.new('L', (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    scale = np.array((width * SUPERSAMPLE - 1, height * SUPERSAMPLE - 1))
    vertices = _polygon(name, rng)
    if vertices is None:
        draw.ellipse([0, 0, *scale], fill=255)
    else:
        draw.polygon([tuple(np.asarray(v) * scale) for v in vertices], fill=255)
    return np.asarray(big.resize((width, height), Image.BOX), np.float32) / 255


def _iou(a, b):
    inter = np.prod(np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None))
    area = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return inter / area


def _place(rng, height, width, boxes):
    """A box (y_min, x_min, y_max, x_max) overlapping ``boxes`` by IoU <=
    :data:`MAX_OVERLAP`, or None after 20 tries."""
    short = min(height, width)
    for _ in range(20):
        side = short * np.exp(rng.uniform(np.log(0.1), np.log(0.5)))
        aspect = np.exp(rng.uniform(np.log(0.75), np.log(4 / 3)))
        h, w = int(round(side / np.sqrt(aspect))), int(round(side * np.sqrt(aspect)))
        h, w = max(min(h, height - 1), 8), max(min(w, width - 1), 8)
        y, x = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        box = np.array((y, x, y + h, x + w))
        if all(_iou(box, other) <= MAX_OVERLAP for other in boxes):
            return box
    return None


def _colour(rng, background):
    """A colour at least 80 grey levels (max over channels) from ``background``."""
    for _ in range(50):
        colour = rng.uniform(0, 255, 3)
        if np.abs(colour - background).max() >= 80:
            return colour
    return 255 - background


def make_image(seed, index):
    """Image ``index`` of the dataset of ``seed``: (uint8 (H, W, 3) RGB,
    float32 (R, 4) boxes (y_min, x_min, y_max, x_max) 0-based with the max
    exclusive, int32 (R,) labels)."""
    rng = np.random.default_rng([seed, index])
    height, width = (int(v) for v in rng.integers(200, 321, 2))
    img = texture(rng, height, width)
    boxes, labels = [], []
    for _ in range(rng.integers(1, 5)):
        box = _place(rng, height, width, boxes)
        if box is None:
            continue
        label = int(rng.integers(len(CLASSES)))
        y0, x0, y1, x1 = box
        mask = shape_mask(CLASSES[label], rng, y1 - y0, x1 - x0)[:, :, None]
        patch = img[y0:y1, x0:x1]
        colour = _colour(rng, patch.reshape(-1, 3).mean(axis=0))
        # shading: the colour times a smooth 0.75-1.0 field
        shade = 0.75 + 0.25 * fractal_noise(rng, y1 - y0, x1 - x0, octaves=2)[:, :, None]
        img[y0:y1, x0:x1] = patch * (1 - mask) + colour * shade * mask
        # the tight box of the drawn pixels (mask >= 0.5)
        rows, cols = np.flatnonzero(mask[:, :, 0].max(axis=1) >= 0.5), \
            np.flatnonzero(mask[:, :, 0].max(axis=0) >= 0.5)
        boxes.append(np.array((y0 + rows[0], x0 + cols[0], y0 + rows[-1] + 1, x0 + cols[-1] + 1)))
        labels.append(label)
    img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    return (img, np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int32))


def generate(out, seed=0, counts=SPLITS):
    """Write the dataset to the VOC folder ``out`` (see the module docstring).

    VOC boxes are written with the inclusive max (``xmax`` = last column + 1
    in 1-based pixels), so reading them back gives the boxes of
    :func:`make_image` minus 1 on the max coordinates (the VOC convention:
    ChainerCV's evaluator adds the 1 back).

    Args:
        counts: sequence of (split, number of images).

    Returns:
        dict split -> list of image ids.
    """
    splits, index = {}, 0
    for split, count in counts:
        splits[split] = ['{:06d}'.format(i) for i in range(index, index + count)]
        index += count
    write_voc(out, splits, CLASSES)
    for ids in splits.values():
        for image_id in ids:
            img, bbox, label = make_image(seed, int(image_id))
            Image.fromarray(img).save(os.path.join(out, 'JPEGImages', image_id + '.jpg'),
                                      quality=92)
            # exclusive max -> inclusive max (0-based); VOC adds 1 on writing
            inclusive = bbox - np.array((0, 0, 1, 1), np.float32)
            write_voc_annotation(os.path.join(out, 'Annotations', image_id + '.xml'),
                                 image_id + '.jpg', img.shape[:2], inclusive, label, CLASSES)
    with open(os.path.join(out, 'generator.json'), 'w') as f:
        json.dump({'generator': 'replicate.datasets.synthetic', 'version': VERSION,
                   'seed': seed, 'counts': dict(counts), 'classes': list(CLASSES)},
                  f, indent=1, sort_keys=True)
        f.write('\n')
    return splits


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m replicate.datasets.synthetic',
        description='Write the generated shapes dataset as a Pascal VOC folder.')
    parser.add_argument('out', help='output folder (created)')
    parser.add_argument('--seed', type=int, default=0)
    for split, count in SPLITS:
        parser.add_argument('--' + split, type=int, default=count,
                            help='images in the {} split (default {})'.format(split, count))
    args = parser.parse_args(argv)
    counts = [(split, getattr(args, split)) for split, _ in SPLITS]
    if any(count < 0 for _, count in counts):
        parser.error('image counts must be >= 0')
    generate(args.out, args.seed, counts)
    print('wrote {} images to {}'.format(sum(c for _, c in counts), args.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
