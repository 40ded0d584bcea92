"""Pictures of detections on an image, drawn with PIL (fast, deterministic).

One panel per (image, detector): the image scaled to :data:`WIDTH` pixels
wide, the ground truth dashed in white (a dark outline under it), each
detection a box with a label ``name score`` in DejaVu Sans (shipped with
matplotlib, so every machine draws the same pixels) at :data:`FONT` px.
Colours: green for a true positive, red for a false positive, grey for a
detection not judged (difficult box, class not annotated), the class colour
when there is no ground truth. Saved as JPEG (quality :data:`QUALITY`, no
metadata: PIL writes none), which keeps photographs small in report.html.
"""
import os

import matplotlib
from PIL import Image, ImageDraw, ImageFont

WIDTH = 480
FONT = 15
QUALITY = 70
TP, FP, OTHER = '#00b000', '#e00000', '#909090'
_FONT_PATH = os.path.join(matplotlib.get_data_path(), 'fonts', 'ttf', 'DejaVuSans.ttf')


def _font(size):
    return ImageFont.truetype(_FONT_PATH, size)


def _dashed_rectangle(draw, box, colour, width, dash=8):
    y0, x0, y1, x1 = box
    for (a, b), (c, d) in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)),
                           ((x0, y1), (x0, y0))):
        length = max(abs(c - a), abs(d - b))
        steps = max(int(length // dash), 1)
        for k in range(0, steps, 2):
            s, e = k / steps, min((k + 1) / steps, 1)
            draw.line([(a + (c - a) * s, b + (d - b) * s), (a + (c - a) * e, b + (d - b) * e)],
                      fill=colour, width=width)


def panel(pixels, truth_boxes, boxes, labels, title):
    """One panel as a PIL image.

    Args:
        pixels: ``(H, W, 3)`` uint8.
        truth_boxes: ``(K, 4)`` ``(y_min, x_min, y_max, x_max)`` original pixels.
        boxes: ``(R, 4)`` the same; ``labels``: R ``(text, colour)``.
        title: drawn in a band above the image, one line per ``\n``-separated part.
    """
    image = Image.fromarray(pixels)
    scale = WIDTH / image.width
    height = max(int(round(image.height * scale)), 1)
    image = image.resize((WIDTH, height), Image.BILINEAR)
    font = _font(FONT)
    titles = title.split('\n')
    band = (FONT + 5) * len(titles) + 5
    canvas = Image.new('RGB', (WIDTH, height + band), 'white')
    canvas.paste(image, (0, band))
    draw = ImageDraw.Draw(canvas)
    for k, line in enumerate(titles):
        draw.text((4, 3 + k * (FONT + 5)), line, fill='black', font=font)

    def place(box):
        return [v * scale + (band if k % 2 == 0 else 0) for k, v in enumerate(box)]

    for box in truth_boxes:
        placed = place(box)
        _dashed_rectangle(draw, placed, '#202020', 5)
        _dashed_rectangle(draw, placed, 'white', 3)
    for box, (text, colour) in zip(boxes, labels, strict=True):
        y0, x0, y1, x1 = place(box)
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=3)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tx = min(max(x0, 0), WIDTH - (right - left) - 4)
        ty = max(y0 - (bottom - top) - 6, band)
        draw.rectangle([tx, ty, tx + right - left + 4, ty + bottom - top + 6], fill=colour)
        draw.text((tx + 2 - left, ty + 3 - top), text, fill='white', font=font)
    return canvas


def save_jpeg(image, path):
    """Write ``image`` as JPEG to ``path``; returns ``path``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path, format='JPEG', quality=QUALITY, optimize=True)
    return path
