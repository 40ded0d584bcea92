"""The run command: ``python compare/run.py IMAGES [...]`` as one process.

- :mod:`~compare.runner.cli`: the options, checked before anything loads, and
  the run: images -> detectors -> per-image loop -> speed -> meta.json ->
  scoring and reports;
- :mod:`~compare.runner.loop`: every loaded detector on every image, resumable;
- :mod:`~compare.runner.resume`: which saved records a resumed run trusts;
- :mod:`~compare.runner.benchmark`: timed repeats on fixed batches;
- :mod:`~compare.runner.shard`: ``--shard K/N``, the slice of the images one
  run takes (the shards are checked, merged and launched by :mod:`compare.shards`);
- :mod:`~compare.runner.skipped`: what the console says about skipped files;
- :mod:`~compare.runner.command`: how a command ends (one line, exit status).

Every file the run writes is written through :mod:`compare.rundir`. The
runner never imports :mod:`compare.shards`: the MPI launcher calls the run.
"""
