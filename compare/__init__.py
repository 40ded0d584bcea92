"""Compare object detectors on the same images: run -> run folder -> score -> report.

The packages, one per stage; each imports only those below it (the import
contracts of pyproject.toml, checked by tests/test_imports.py)::

    run.py, merge.py     the commands (python compare/run.py, python -m compare,
                         ssd-compare; python -m compare.merge)
    export/              python -m compare.export: a run folder as COCO files
    shards/              N shards of one run: checked, merged, launched by MPI
    runner/              the run in one process: options, per-image loop,
                         resume, speed, then scoring and reports (scoring.py,
                         also python -m compare.score)
    report/              summary.md, report.html, figures/
    score/ | adapters/   the tables, from saved outputs only | one adapter
                         per kind of detector (neither imports the other, but
                         the file kind reads a COCO JSON's ids with
                         score/ground_truth.py)
    images.py            read each image once, as displayed (EXIF applied)
    rundir/              the run folder: every file's name, format, reading
    detections.py, limits.py, paths.py, errors.py
                         the common format, the bounds on user input, paths
                         as recorded, one-line user errors and exit statuses

The flow::

    python compare/run.py IMAGES -d SPEC ... --out RUN        compare.runner
      adapters/           one adapter per kind of detector, built from its
                          spec; each returns detections.py's common format
      runner/resume.py    which saved records a resumed run trusts
                          (rundir/identity.py: what makes two runs of a
                          detector the same detector)
      runner/loop.py      every detector on every image, resumable
      runner/benchmark.py timed repeats on fixed batches
          |
          v
    RUN/ (the run folder)                                     compare.rundir
          |
          v
    python -m compare.score RUN                               compare.runner.scoring
      score/         tables: headline, detections and their verdicts, agreement,
                     speed, mAP, errors, sweep, confusion, decode grid, classes
      report/        summary.md, report.html, figures/

:mod:`compare.rundir` is the one owner of every file of a run folder: it
names them, writes them and reads them back by one rule, and its docstring is
the format. Who computes what it writes:

=====================================================  =========================
file of the run folder                                  computed by
=====================================================  =========================
``lock``                                                :mod:`compare.rundir.lock`
``meta.json``                                           :mod:`compare.runner.cli`
``raw/<detector>.jsonl``                                :mod:`compare.runner.loop`
``raw/<detector>.identity.json``                        :mod:`compare.runner.resume`
``raw/timings.csv``, ``raw/benchmark.csv``              :mod:`compare.runner.benchmark`
``raw/netout/<detector>/*.npz`` (``--keep-raw``)        the Chainer SSD adapters,
                                                        via :mod:`compare.runner.loop`
``raw/skipped.csv``                                     :mod:`compare.images`,
                                                        :mod:`compare.runner.loop`
``raw/<detector>.error.txt``                            :mod:`compare.runner.loop`
``raw/README.md``                                       :mod:`compare.rundir`
``raw/shard.json`` (``--shard K/N``)                    :mod:`compare.runner.shard`
``<table>.csv``, ``<table>.md``                         :mod:`compare.score`
``summary.md``, ``report.html``, ``figures/*``          :mod:`compare.report`
=====================================================  =========================

A large run is split into shards, run folders of one slice each under
``RUN/shards/K-of-N`` (:mod:`compare.runner.shard`: ``--shard K/N``, or every MPI
rank at once: :mod:`compare.shards.mpi_launch`); ``python -m compare.merge RUN``
(:mod:`compare.shards.merge`) checks that they are one run
(:mod:`compare.shards.check`), writes RUN's
``meta.json`` and ``raw/`` from theirs, as one process would have, and
scores it.

Shared: :mod:`compare.errors` (one-line user errors, exit codes),
:mod:`compare.limits` (every bound on what a user gives) and
:mod:`compare.paths` (paths recorded relative to the cwd, so two clones
write the same reports).
"""
