"""A minimal training loop without augmentation: a loss that goes down.

The full pipeline (augmentation, evaluation, snapshots) is the command
``python -m replicate.train`` (:mod:`replicate.train.cli`).
"""
import chainer
import numpy as np

from replicate.train.chain import MultiboxTrainChain
from replicate.train.encode import encode_sample
from replicate.train.recipe import freeze_base, make_optimizer


def _batch(encoded, index, xp):
    """Stack the encoded samples at ``index`` into (x, gt_mb_locs, gt_mb_labels)."""
    return tuple(xp.stack([encoded[i][part] for i in index]) for part in range(3))


def train_steps(model, samples, n_steps, lr, batch_size=1, seed=0, freeze=False,
                alpha=1, k=3):
    """Train ``model`` in place for ``n_steps`` updates of the recipe's
    optimizer (:func:`replicate.train.make_optimizer`).

    Samples are encoded once (:func:`encode_sample`, no augmentation); each
    step draws ``batch_size`` distinct samples with ``np.random.default_rng
    (seed)``, so on CPU the run is deterministic given the model's weights.

    Args:
        model: an :class:`replicate.SSD`.
        samples: list of (img, bbox, label) as :func:`encode_sample` takes.
        n_steps (int), lr (float), batch_size (int, <= len(samples)), seed (int).
        freeze (bool): apply :func:`freeze_base` (train only SSD's own layers).
        alpha, k: see :class:`MultiboxTrainChain`.

    Returns:
        list of dict, one per step: 'loss', 'loss/loc', 'loss/conf' (floats)
        of the batch, computed before that step's update.
    """
    if not 1 <= batch_size <= len(samples):
        raise ValueError('batch_size must be in [1, {}], got {}'.format(
            len(samples), batch_size))
    encoded = [encode_sample(model, *sample) for sample in samples]
    chain = MultiboxTrainChain(model, alpha, k)
    optimizer = make_optimizer(chain, lr)
    if freeze:
        freeze_base(model)
    rng = np.random.default_rng(seed)
    reporter = chainer.Reporter()
    reporter.add_observer('main', chain)
    history = []
    for _ in range(n_steps):
        index = rng.choice(len(samples), batch_size, replace=False)
        observation = {}
        with reporter.scope(observation):
            optimizer.update(chain, *_batch(encoded, index, model.xp))
        history.append({key[len('main/'):]: float(value.array)
                        for key, value in observation.items()})
    return history
