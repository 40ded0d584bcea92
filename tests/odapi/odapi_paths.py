"""Paths and inputs shared by the OD API port's tests (a module with a unique
name: conftest modules of other test folders share the name 'conftest')."""
import os

import numpy as np

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures')
EXPORT = os.path.join(FIXTURES, 'odapi_ssd_mobilenet_v2')
FROZEN = os.path.join(FIXTURES, 'odapi_frozen')
PIPELINE = os.path.join(EXPORT, 'pipeline.config')
#: The full-size export (standard zoo config, 300x300, 90 classes), not in git.
LARGE = os.path.join(FIXTURES, 'large', 'odapi_ssd_mobilenet_v2_300')
MAKE_LARGE = 'tools/make_odapi_full_export.sh'


def raw_images():
    """Two uint8 HWC RGB images of odd sizes: noise and a smooth gradient."""
    rng = np.random.RandomState(3)
    noise = rng.randint(0, 256, (97, 141, 3)).astype(np.uint8)
    yy, xx = np.meshgrid(np.linspace(0, 255, 150), np.linspace(0, 255, 110), indexing='ij')
    smooth = np.stack([yy, xx, (yy + xx) / 2], axis=2).astype(np.uint8)
    return [noise, smooth]
