"""Fixtures for the replicate tests: smooth test images and one seeded pair
of SSD300s (ChainerCV's and ours), built once per session because a full
forward costs about a second per image on a quiet CPU."""
import warnings

import cv2
import numpy as np
import pytest

from replicate.ssd.weights import seeded_random_weights


def make_image(seed, height, width):
    """A smooth random RGB image, float32 (3, height, width), values in [0, 255].

    An 8x10 grid of uniform noise upsampled bicubically: smooth like a photo,
    so resizing it is not dominated by aliasing.
    """
    small = np.random.default_rng(seed).uniform(0, 255, (8, 10, 3)).astype(np.float32)
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(big, 0, 255).transpose(2, 0, 1).copy()


@pytest.fixture(scope='session')
def smooth_image():
    return make_image


@pytest.fixture(scope='session')
def seeded_pair():
    """(chainercv SSD300, replicate SSD300), 20 classes, seeded_random_weights seed 0."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', SyntaxWarning)
        import chainercv.links
    import replicate
    theirs = seeded_random_weights(chainercv.links.SSD300(n_fg_class=20), seed=0)
    ours = seeded_random_weights(replicate.SSD300(n_fg_class=20), seed=0)
    return theirs, ours
