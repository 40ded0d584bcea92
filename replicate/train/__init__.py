"""Training SSD: targets, the loss chain, the recipe, ChainerCV's augmentation
as drop-ins, datasets and the training command ``python -m replicate.train``.

- :func:`encode_sample`, :class:`MultiboxTrainChain`, :func:`train_steps`: the
  loss on one batch and a minimal loop (no augmentation).
- :func:`make_optimizer`, :func:`freeze_base`: the SSD300 recipe and the
  frozen base for a new class set (:mod:`replicate.train.recipe`).
- :func:`random_distort`, :func:`random_crop_with_bbox_constraints`,
  :func:`resize_with_random_interpolation`, :class:`GradientScaling`:
  ChainerCV's names, signatures and outputs (:mod:`replicate.train.transforms`).
- :class:`SSDAugmentation`: ChainerCV's SSD training transform
  (:mod:`replicate.train.augment`).
"""
from replicate.train.augment import SSDAugmentation  # noqa: F401
from replicate.train.chain import MultiboxTrainChain  # noqa: F401
from replicate.train.encode import encode_sample  # noqa: F401
from replicate.train.gradient_scaling import GradientScaling  # noqa: F401
from replicate.train.recipe import BASE_LINKS, freeze_base, make_optimizer  # noqa: F401
from replicate.train.steps import train_steps  # noqa: F401
from replicate.train.transforms import (  # noqa: F401
    random_crop_with_bbox_constraints,
    random_distort,
    resize_with_random_interpolation,
)
