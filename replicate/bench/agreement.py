"""How close each exported path (ONNX Runtime, OpenVINO, int8) is to the
Chainer model it was exported from, on the benchmark's own images: raw
outputs and detections."""
import numpy as np

from replicate.tolerances import DETECTIONS_BOX_PX, DETECTIONS_SCORE

COLUMNS = ('pipeline', 'batch_size', 'output', 'max_abs_diff', 'max_abs_reference',
           'scaled_diff', 'detections_chainer', 'detections_path', 'matched')


def matched(a, b):
    """Detections of one image (bbox, label, score) matched by class and rank:
    how many agree within :data:`replicate.tolerances.DETECTIONS_BOX_PX` and
    :data:`~replicate.tolerances.DETECTIONS_SCORE`."""
    count = 0
    for cls in np.intersect1d(a[1], b[1]):
        ia, ib = np.flatnonzero(a[1] == cls), np.flatnonzero(b[1] == cls)
        n = min(len(ia), len(ib))
        ia, ib = ia[:n], ib[:n]
        close = (np.abs(a[0][ia] - b[0][ib]).max(axis=1) <= DETECTIONS_BOX_PX) & \
            (np.abs(a[2][ia] - b[2][ib]) <= DETECTIONS_SCORE)
        count += int(close.sum())
    return count


def rows(ours, others, images, batch_sizes):
    """Rows with :data:`COLUMNS` per path, batch size and output (mb_locs, mb_confs).

    Args:
        ours: the ``ours-chainer`` pipeline (the reference).
        others: pipelines of exports of the same model (``ours-onnx``, ...).
    """
    out = []
    for batch_size in batch_sizes:
        batch = [images[i % len(images)] for i in range(batch_size)]
        x, sizes = ours.prepare(batch)
        reference = ours.forward(x)
        det_ref = ours.postprocess(reference, sizes)
        for other in others:
            fast = other.forward(x)
            det_fast = other.postprocess(fast, sizes)
            counts = (sum(len(label) for label in det_ref[1]),
                      sum(len(label) for label in det_fast[1]))
            hits = sum(matched(tuple(d[i] for d in det_ref), tuple(d[i] for d in det_fast))
                       for i in range(batch_size))
            for name, a, b in zip(('mb_locs', 'mb_confs'), reference, fast, strict=True):
                diff, scale = float(np.abs(a - b).max()), float(np.abs(a).max())
                out.append({'pipeline': other.name, 'batch_size': batch_size, 'output': name,
                            'max_abs_diff': diff, 'max_abs_reference': scale,
                            'scaled_diff': diff / scale, 'detections_chainer': counts[0],
                            'detections_path': counts[1], 'matched': hits})
    return out
