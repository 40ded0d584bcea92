"""The OD API's SSD anchors (``ssd_anchor_generator``): per feature map a
list of (scale, aspect ratio) box shapes, tiled over the map's grid.

Shapes per layer (``create_ssd_anchors``): scales s_k = min_scale + (max_scale
- min_scale) k / (L - 1) (or the config's ``scales``), then s_L = 1; layer 0
with ``reduce_boxes_in_lowest_layer`` has the three boxes (0.1, 1), (s_0, 2),
(s_0, 1/2); every other layer has (s_k, r) for each aspect ratio r, plus
(sqrt(s_k s_k+1), interpolated ratio) when that ratio is > 0. A box (s, r) is
s / sqrt(r) high and s sqrt(r) wide, times the base anchor size, in units of
the shorter image side.

Tiling (``tile_anchors``): centers at offset + i * stride, stride 1 / grid
size and offset stride / 2 unless the config gives them in pixels. Anchors
are ordered by map, row, column, box shape; coordinates are normalized
(y_min, x_min, y_max, x_max). All arithmetic is float32 in TF's order, so the
anchors equal the export's bit for bit (tested).
"""
import numpy as np

F32 = np.float32


def box_specs(config):
    """Per layer, the list of (scale, aspect ratio) pairs (Python floats).

    Args:
        config (replicate.odapi.config.Anchors): the anchor generator config.
    """
    n = config.num_layers
    scales = list(config.scales) or [
        config.min_scale + (config.max_scale - config.min_scale) * i / (n - 1)
        for i in range(n)]
    scales.append(1.0)
    specs = []
    for layer in range(n):
        scale, scale_next = scales[layer], scales[layer + 1]
        if layer == 0 and config.reduce_boxes_in_lowest_layer:
            specs.append([(0.1, 1.0), (scale, 2.0), (scale, 0.5)])
            continue
        layer_specs = [(scale, ratio) for ratio in config.aspect_ratios]
        if config.interpolated_scale_aspect_ratio > 0.0:
            layer_specs.append((float(np.sqrt(scale * scale_next)),
                                config.interpolated_scale_aspect_ratio))
        specs.append(layer_specs)
    return specs


def tile_anchors(grid, specs, base_size, stride, offset):
    """The anchors of one feature map, float32 (H * W * n, 4) corners.

    Args:
        grid ((int, int)): the map's (height, width).
        specs (list of (float, float)): its n (scale, aspect ratio) pairs.
        base_size (float32 (2,)), stride, offset ((float32, float32)): in
            normalized units, (y, x) order.
    """
    scales = np.array([s for s, _ in specs], dtype=F32)
    ratio_sqrts = np.sqrt(np.array([r for _, r in specs], dtype=F32))
    heights = scales / ratio_sqrts * base_size[0]
    widths = scales * ratio_sqrts * base_size[1]
    y_centers = np.arange(grid[0], dtype=F32) * stride[0] + offset[0]
    x_centers = np.arange(grid[1], dtype=F32) * stride[1] + offset[1]
    # (H, W, n) grids of centers and sizes -> (H*W*n,) in row, column, box order
    shape = (grid[0], grid[1], len(specs))
    cy = np.broadcast_to(y_centers[:, None, None], shape).ravel()
    cx = np.broadcast_to(x_centers[None, :, None], shape).ravel()
    h = np.broadcast_to(heights[None, None, :], shape).ravel()
    w = np.broadcast_to(widths[None, None, :], shape).ravel()
    half = F32(0.5)
    # center form (cy, cx, h, w) -> corners (y_min, x_min, y_max, x_max)
    return np.stack([cy - half * h, cx - half * w, cy + half * h, cx + half * w], axis=1)


def generate(config, grids, image_size):
    """All anchors, float32 (K, 4) normalized (y_min, x_min, y_max, x_max).

    Args:
        config (replicate.odapi.config.Anchors): the anchor generator config.
        grids (sequence of (int, int)): each feature map's (height, width).
        image_size ((int, int)): the network input (height, width).
    """
    specs = box_specs(config)
    if len(grids) != len(specs):
        raise ValueError('{} feature maps for {} anchor layers'.format(len(grids), len(specs)))
    im_h, im_w = F32(image_size[0]), F32(image_size[1])
    shorter = min(im_h, im_w)
    # the base size is in units of the shorter side: square anchors stay square
    base_size = (shorter / im_h * F32(config.base_anchor_size[0]),
                 shorter / im_w * F32(config.base_anchor_size[1]))
    layers = []
    for k, (grid, layer_specs) in enumerate(zip(grids, specs, strict=True)):
        if config.strides:
            stride = (F32(config.strides[k][0]) / im_h, F32(config.strides[k][1]) / im_w)
        else:
            stride = (F32(1.0) / F32(grid[0]), F32(1.0) / F32(grid[1]))
        if config.offsets:
            offset = (F32(config.offsets[k][0]) / im_h, F32(config.offsets[k][1]) / im_w)
        else:
            offset = (F32(0.5) * stride[0], F32(0.5) * stride[1])
        layers.append(tile_anchors(grid, layer_specs, base_size, stride, offset))
    return np.concatenate(layers, axis=0)


def boxes_per_location(config):
    """Anchors per grid cell of each map, e.g. (3, 6, 6, 6, 6, 6)."""
    return tuple(len(specs) for specs in box_specs(config))
