"""Pictures of detections on an image, drawn with PIL (fast, deterministic).

One panel per (image, detector): a title band, the image scaled to
:data:`WIDTH` pixels wide, and a legend under it. The ground truth is dashed
in white (a dark outline under it); each detection is a box with a numbered
tag, and the legend lists ``number name score`` in the box's colour, so no
text is ever drawn over another: each tag takes the first free place of a
fixed list around its box (:func:`place_tags`); a tag with no free place is
left out and its legend entry says so. Text is DejaVu Sans (shipped with
matplotlib, so every machine draws the same pixels) at :data:`FONT` px:
report.html shows panels :data:`SHOWN` px wide, so text reads at
``FONT * SHOWN / WIDTH`` >= 12 px there (click to enlarge).
Colours: green for a true positive, red for a false positive, grey for a
detection not judged (difficult box, class not annotated), the class colour
when there is no ground truth. Saved as JPEG (quality :data:`QUALITY`, no
metadata: PIL writes none), which keeps photographs small in report.html.
"""
import os

import matplotlib
from PIL import Image, ImageDraw, ImageFont

WIDTH = 480
#: Width at which report.html shows a panel (CSS pixels).
SHOWN = 440
FONT = 16
QUALITY = 70
TP, FP, OTHER = '#00b000', '#e00000', '#909090'
#: Legend: entries per row.
LEGEND_COLUMNS = 3
_FONTS = os.path.join(matplotlib.get_data_path(), 'fonts', 'ttf')


def _font(size, bold=False):
    return ImageFont.truetype(os.path.join(_FONTS, 'DejaVuSans-Bold.ttf' if bold
                                           else 'DejaVuSans.ttf'), size)


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


def _overlaps(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _candidates(box, w, h):
    """Top-left corners to try for a ``w`` x ``h`` tag of ``box`` = (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    fixed = [(x0, y0 - h), (x0, y0), (x1 - w, y0), (x1 - w, y0 - h), (x0, y1), (x0, y1 - h),
             (x1 - w, y1 - h), (x0 - w, y0), (x1, y0), (x1 - w, y1)]
    step = max(w // 2, 1)
    along = [(x, y) for y in (y0 - h, y0, y1 - h, y1)
             for x in range(int(x0) + step, int(x1 - w), step)]
    down = [(x, y) for x in (x0 - w, x0, x1 - w, x1)
            for y in range(int(y0) + h, int(y1 - h), max(h // 2, 1))]
    return fixed + along + down


def place_tags(boxes, sizes, area):
    """Where each tag goes, never over another tag.

    Args:
        boxes: ``(x0, y0, x1, y1)`` per detection, canvas pixels, in drawing order.
        sizes: ``(w, h)`` of each tag.
        area: ``(x0, y0, x1, y1)`` the tags must stay inside.

    Returns:
        one ``(x0, y0, x1, y1)`` rectangle per tag, or None for a tag with no
        free place.
    """
    placed, found = [], []
    for box, (w, h) in zip(boxes, sizes, strict=True):
        spot = None
        for x, y in _candidates(box, w, h):
            x = min(max(x, area[0]), area[2] - w)
            y = min(max(y, area[1]), area[3] - h)
            rect = (x, y, x + w, y + h)
            if not any(_overlaps(rect, other) for other in placed):
                spot = rect
                break
        if spot is not None:
            placed.append(spot)
        found.append(spot)
    return found


def _legend_height(count):
    rows = -(-count // LEGEND_COLUMNS)
    return 6 + rows * (FONT + 6) if count else 0


def panel(pixels, truth_boxes, boxes, labels, title):
    """One panel as a PIL image.

    Args:
        pixels: ``(H, W, 3)`` uint8.
        truth_boxes: ``(K, 4)`` ``(y_min, x_min, y_max, x_max)`` original pixels.
        boxes: ``(R, 4)`` the same; ``labels``: R ``(text, colour)``, drawn
            in this order (highest score first: the first get the best places).
        title: drawn in a band above the image, one line per ``\\n``-separated part.
    """
    image = Image.fromarray(pixels)
    scale = WIDTH / image.width
    height = max(int(round(image.height * scale)), 1)
    image = image.resize((WIDTH, height), Image.BILINEAR)
    font, bold = _font(FONT), _font(FONT - 1, bold=True)
    titles = title.split('\n')
    band = (FONT + 5) * len(titles) + 5
    legend = _legend_height(len(labels))
    canvas = Image.new('RGB', (WIDTH, band + height + legend), 'white')
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
    rects, sizes = [], []
    for number, box in enumerate(boxes, 1):
        y0, x0, y1, x1 = place(box)
        rects.append((x0, y0, x1, y1))
        left, top, right, bottom = draw.textbbox((0, 0), str(number), font=bold)
        sizes.append((right - left + 6, bottom - top + 6))
    for (x0, y0, x1, y1), (_, colour) in zip(rects, labels, strict=True):
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=3)
    spots = place_tags(rects, sizes, (0, band, WIDTH, band + height))
    for number, (spot, (_, colour)) in enumerate(zip(spots, labels, strict=True), 1):
        if spot is None:
            continue
        draw.rectangle(spot, fill=colour)
        left, top, _, _ = draw.textbbox((0, 0), str(number), font=bold)
        draw.text((spot[0] + 3 - left, spot[1] + 3 - top), str(number), fill='white', font=bold)
    column = WIDTH // LEGEND_COLUMNS
    for k, ((text, colour), spot) in enumerate(zip(labels, spots, strict=True)):
        x = 4 + (k % LEGEND_COLUMNS) * column
        y = band + height + 4 + (k // LEGEND_COLUMNS) * (FONT + 6)
        entry = '{} {}{}'.format(k + 1, text, '' if spot is not None else ' (no tag)')
        draw.text((x, y), _fit(draw, entry, font, column - 6), fill=_darker(colour), font=font)
    return canvas


def _fit(draw, text, font, width):
    """``text`` cut (with an ellipsis) to ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + '…', font=font) > width:
        text = text[:-1]
    return text + '…'


def _darker(colour):
    """A darker shade of ``#rrggbb`` (legend text on white)."""
    value = int(colour.lstrip('#'), 16)
    r, g, b = (value >> 16) & 255, (value >> 8) & 255, value & 255
    return '#{:02x}{:02x}{:02x}'.format(*(int(c * 0.75) for c in (r, g, b)))


def save_jpeg(image, path):
    """Write ``image`` as JPEG to ``path``; returns ``path``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path, format='JPEG', quality=QUALITY, optimize=True)
    return path
