"""``raw/shard.json``: what a shard (``--shard K/N``) holds."""
import os

from compare.errors import UserError
from compare.rundir.files import load_json, write_json
from compare.rundir.layout import SHARD, raw_path
from replicate.errors import one_line

_SHARD_KEYS = {'k', 'n', 'listed_total', 'listing_sha256', 'images'}


def write_shard(run_dir, shard):
    """``raw/shard.json`` from the dict of :meth:`compare.runner.shard.Plan.describe`
    (written atomically)."""
    write_json(raw_path(run_dir, SHARD), shard)


def read_shard(run_dir):
    """The dict of ``raw/shard.json``, or None if absent.

    Raises:
        UserError: the file is not one this harness wrote.
    """
    path = raw_path(run_dir, SHARD)
    if not os.path.lexists(path):
        return None
    fix = 'rerun that shard with --force'
    data = load_json(path, fix)
    try:
        if not isinstance(data, dict) or set(data) != _SHARD_KEYS:
            raise ValueError('keys {}'.format(
                sorted(data) if isinstance(data, dict) else type(data).__name__))
        ints = [data[key] for key in ('k', 'n', 'listed_total')]
        if any(type(value) is not int for value in ints) or not (
                isinstance(data['listing_sha256'], str) and isinstance(data['images'], list)
                and all(isinstance(image, str) for image in data['images'])):
            raise ValueError('a value of the wrong type')
    except ValueError as exc:
        raise UserError('{} is not a shard file of this harness ({}); {}'.format(
            path, one_line(exc)[:200], fix)) from None
    return data
