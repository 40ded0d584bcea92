"""Comparing two lists of final detections when scores may tie.

Two detections with (nearly) equal scores may come out in either order: TF
and Chainer sum convolutions in different orders, so a tie within float32
noise can be broken differently. Detections are identified by (class, anchor
index); ours are reordered to the reference's order when they are the same
detections and every moved one sits among reference scores equal to its own
within the tolerance. Anything else is reported as it is (and diverges).
"""
import numpy as np


def align(ours, reference, atol):
    """``(ours reordered, note)``.

    Args:
        ours, reference (dict): ``classes``, ``anchor_indices``, ``scores``
            and any other per-detection arrays, all of length N.
        atol (float): absolute score difference counted as a tie.

    Returns:
        ``ours`` with every array reordered (or unchanged), and a note for
        the report ('' when nothing was reordered).
    """
    key_ours = list(zip(ours['classes'].tolist(), ours['anchor_indices'].tolist(), strict=True))
    key_ref = list(zip(reference['classes'].tolist(), reference['anchor_indices'].tolist(),
                       strict=True))
    if key_ours == key_ref:
        return ours, ''
    if len(key_ours) != len(key_ref) or set(key_ours) != set(key_ref):
        missing = len(set(key_ref) - set(key_ours))
        return ours, ('{} of {} reference detections (class, anchor) not in ours'.format(
            missing, len(key_ref)))
    position = {key: i for i, key in enumerate(key_ours)}
    order = np.array([position[key] for key in key_ref])
    ref_position = {key: i for i, key in enumerate(key_ref)}
    scores = reference['scores']
    moved = [i for i, j in enumerate(order) if i != j]
    untied = [i for i in moved if abs(scores[i] - scores[ref_position[key_ours[i]]]) > atol]
    if untied:
        return ours, '{} detections in another order, not explained by tied scores'.format(
            len(untied))
    reordered = {key: value[order] for key, value in ours.items()}
    return reordered, '{} detections reordered among scores tied within {:g}'.format(
        len(moved), atol)
