"""Scaling a run out: N shards of one run, checked, merged and launched.

A shard is an ordinary run of one slice of the images (``compare/run.py ...
--shard K/N``: :mod:`compare.runner.shard`) into ``RUN/shards/K-of-N``.

- :mod:`~compare.shards.check`: whether N shard folders make one run;
- :mod:`~compare.shards.merge`: N shards -> one run folder, then scored
  (``python -m compare.merge RUN``); :mod:`~compare.shards.options`: its
  scoring options, checked before it writes;
- :mod:`~compare.shards.mpi_launch`: ``mpiexec -n N python compare/run.py ...``,
  every shard at once, one per MPI rank, rank 0 merging.

This package calls the run (:mod:`compare.runner`); the run never imports it.
"""
