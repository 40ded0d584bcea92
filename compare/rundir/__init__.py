"""The run folder and its format. `compare/rundir/` is the one owner of
every file of a run folder: it names, writes and reads them all, and its
docstring is this text, which every run copies to `raw/README.md`.

A run folder is written in two steps. `python compare/run.py IMAGES --out RUN`
runs the detectors and writes `meta.json` and `raw/`; `python -m compare.score
RUN` reads only those and writes everything else, so scoring can be re-run on
saved outputs. Boxes are always `(y_min, x_min, y_max, x_max)` in pixels of the
image as displayed (EXIF orientation applied), inside the image. A run folder
holds the truth of ONE run: what its tables show was computed by the
detectors of its last run, on the images of that run as they are now.

## Written by the run

- `lock`: held (an advisory `flock`) by the run or the scoring that is
  changing the folder; JSON `pid`, `host`, `command`, `since` (UTC). A second
  run or scoring is refused while it is held; the kernel releases it when its
  holder ends in any way, so a file left by a killed run is taken over. The
  holder deletes it on exit (`compare.rundir.lock`).
- `meta.json`: what produced the run. Keys: `provenance` (versions, commit,
  device, date: `provenance.stamp`); `args` (the command line, paths
  relative to the cwd when inside it); `images` (`folder` relative to the cwd
  of the run, `folder_from_run` relative to the run folder, `listed` images,
  `not_images` files skipped at listing); `state` (`running` while images are
  processed, then `interrupted` (Ctrl-C, SIGTERM), `failed` (an error stopped
  it) or `complete`); `detectors`, one entry per detector OF THIS RUN with
  exactly the keys `name`, `status` (`ok` or `failed: <reason>`), `loaded`
  (false when it failed to load: its raw files, if any, are from an earlier
  run and are not scored), `weights`, `weights_sha256`, `random_weights`,
  `device`, `threads`, `label_names`, `info` (details of its kind),
  `images_done` and `images_new` (null until the images are done). Written
  atomically (a temporary file renamed) once the detectors are loaded, and
  again when the run ends.
- `raw/<detector>.jsonl`: one JSON record per image, appended with one
  `write` ending in a newline, flushed and fsync'ed before the next image, so a
  killed run leaves at most a partial LAST line. A record has exactly the keys
  `image` (path relative to the images folder, posix), `sha256` (of the image
  file's bytes the detections came from), `height`, `width` (of the image as
  loaded), `detections` (list of `y_min`, `x_min`, `y_max`, `x_max`, `label` =
  the detector's own id, `name` = its class name, `score`; in the detector's
  own order; finite numbers) and `times` (`preprocess`, `inference`,
  `postprocess` seconds of this image's call, batch 1). Checked on every
  read like any untrusted file (`compare.rundir.records`): `height`, `width`
  positive integers; boxes `0 <= y_min <= y_max <= height`, `0 <= x_min <=
  x_max <= width` (zero-size allowed); `score` in [0, 1]; `label` an integer
  in [0, 100000]; `times` >= 0; `sha256` 64 hex digits.
- `raw/<detector>.identity.json`: who wrote that detector's records
  (`compare.rundir.identity`: name, weights, vocabulary, settings); written before
  its first record.
- `raw/timings.csv`: the speed benchmark, columns `detector`, `batch_size`,
  `repeat` (0-based, after warm-up), `stage` (`preprocess`, `inference`,
  `postprocess`, `total` = wall clock of the whole call), `seconds` for the
  WHOLE batch. Absent when the run was told `--no-speed` (an older one is
  removed then).
- `raw/benchmark.csv`: one row per detector and batch size timed: `detector`,
  `batch_size`, `identity` (what the timings belong to: weights checksum or
  name, preset, device, threads, and a digest of the detector's whole
  identity and of the images timed), `repeats`, `warmup`, `load_avg_max` (the
  1-minute load average, the larger of before and after its calls),
  `cpu_count`, `rss_before_mib` and `peak_rss_mib` (the process's resident
  memory before its calls and at its peak during them; peak `nan` where the
  system cannot tell). A later run into the same folder reuses the timings of
  a detector whose row matches (same identity, repeats, warm-up) instead of
  timing it again (`--force` retimes). Absent with `--no-speed`.
- `raw/netout/<detector>/<image>.npz` (with `--keep-raw`, Chainer SSDs only):
  the network's outputs for one image, `numpy.savez_compressed` with exactly
  the arrays `locs` float32 (K, 4), `confs` float32 (K, n_class) (logits,
  column 0 the background), `size` int64 (2,) (height, width of the image),
  `insize` int64 () (the network's input side); read with
  `allow_pickle=False`. `<image>` is the image path with `%` written `%25`
  and `/` written `%2F` (the sha256 of the path when that is over 200
  bytes). Kept only beside the record it belongs to: a record dropped on
  resume, an image run again without `--keep-raw`, or `--force` removes it.
- `raw/skipped.csv`: `image`, `reason` for what was not run (not an image by
  suffix, not a regular file, a name that is not UTF-8 (shown with `\\xNN`
  escapes), a link to a folder, a run folder among the images, unreadable),
  sorted by image.
- `raw/<detector>.error.txt`: the traceback of an unexpected (non-user) error
  that failed that detector.
- `raw/README.md`: this text.
- `raw/shard.json` (a shard, `--shard K/N`: `compare.runner.shard`): `k`, `n`,
  `listed_total` (images in the whole listing), `listing_sha256` (its
  fingerprint: each image's relative path and size in bytes) and `images` (this
  shard's slice, sorted). A shard folder is `RUN/shards/K-of-N`, an ordinary run
  folder of its slice; `python -m compare.merge RUN` writes RUN from the N
  shards (`compare.shards.merge`), and `meta.json`'s `args.merged_from` then lists
  them.

## Resuming (`compare.runner.resume`)

A saved record is kept, and its image not run again for its detector, only
when the run is over the same images folder as `meta.json` names, the
detector's identity equals `raw/<detector>.identity.json`, the image is one
of this run's images and its file's sha256 equals the record's. Another
folder or identity is refused (`--force` redoes this run's detectors, or pass
another `--out`); records of images no longer in the folder, of changed files
or without `sha256` (written before it existed) are removed from the file,
rewritten atomically, and said so. `--force` deletes the records and identity
of each detector that LOADED in this run; one that failed to load keeps them.

## Reading rule (resuming and scoring alike)

Bytes after the last newline of a `.jsonl` are the partial record of a killed
run: resuming truncates them away (the image is run again), scoring leaves the
file alone and says so in its warnings. Every complete line must be UTF-8 and a
record as above (`sha256` may be absent in older files), and an image appears
at most once per file; anything else is an error naming the file and the line,
and the image, which says how to recover (delete that line: a rerun redoes only
that image; or rerun with `--force`). Any file
of the folder that cannot be read, or is a folder, is likewise a one-line
error. `meta.json` must exist and hold exactly the keys above (`loaded` may be
absent in older files: true). Scoring reads the records of the detectors
`meta.json` lists as loaded, and only those: a `.jsonl` of any other detector
(left by an earlier run into the same folder, or of a detector that failed
to load this time) is named in the warnings and not scored.

## Written by scoring

- `<table>.csv` and `<table>.md` for each table of `TABLES`, rows sorted by
  its keys (names and keys, never a float), each float rounded to its
  column's step (`compare.rundir.precision`: boxes 0.1 px, scores 1e-4, IoU
  1e-4, timings 0.001, other metrics 1e-6); the per-detection tables
  (`CSV_ONLY`) are CSV only.
- `summary.md`, `report.html` (self-contained) and `figures/` (`*.png` charts,
  `*.jpg` pictures of detections)
  (`compare.report`).

The columns of every table are explained in reports/README.md.
"""

# The package is the format above (copied into every run as raw/README.md) and
# its one API, ``from compare import rundir; rundir.read_meta(...)``; one
# module per file of the folder:
#   layout       every file name (and the shard folders' K-of-N)
#   files        reading one file, one-line errors; every write atomic or appended, never
#                through a link
#   claim        which folders a run may write (new, empty, its own) and the links it refuses
#   records      raw/<detector>.jsonl (the reading rule), raw/<detector>.error.txt
#   identity     raw/<detector>.identity.json (what makes two runs one detector)
#   meta         meta.json
#   tables       raw/timings.csv, raw/benchmark.csv, raw/skipped.csv
#   netout       raw/netout/ (--keep-raw)
#   shard_file   raw/shard.json (--shard K/N)
#   run_folder   the whole folder read for scoring
#   score_files  what scoring writes: tables, summary.md, report.html, figures/
#   lock         one run at a time per folder
from compare.rundir.files import write_text as _write_file
from compare.rundir.identity import read_identity, write_identity  # noqa: F401
from compare.rundir.layout import (  # noqa: F401
    CSV_ONLY,
    FIGURES,
    LOCK,
    META,
    NETOUT,
    RAW,
    README,
    README_TITLE,
    REPORT,
    SHARD,
    SHARDS,
    SKIPPED_COLUMNS,
    STATES,
    SUMMARY,
    TABLES,
    TIMING_COLUMNS,
    TIMING_STAGES,
    detector_files,
    error_file,
    figure,
    identity_file,
    is_run_folder,
    raw_path,
    records_file,
    shard_folder,
    shard_of_folder,
    table_files,
)
from compare.rundir.meta import (  # noqa: F401
    META_FIX,
    DetectorEntry,
    ImagesInfo,
    RunMeta,
    read_meta,
    write_meta,
)
from compare.rundir.netout import (  # noqa: F401
    kept_files,
    kept_path,
    netout_path,
    read_netout,
    remove_netout,
    write_netout,
)
from compare.rundir.records import (  # noqa: F401
    ImageRecord,
    RecordWriter,
    is_relative_image,
    read_records,
    remove_detector,
    write_error,
    write_records,
)
from compare.rundir.run_folder import RunFolder, read_run  # noqa: F401
from compare.rundir.score_files import (  # noqa: F401
    clear_figures,
    remove_score_tables,
    write_score_table,
    write_text,
)
from compare.rundir.shard_file import read_shard, write_shard  # noqa: F401
from compare.rundir.tables import (  # noqa: F401
    BENCHMARK_COLUMNS,
    Benchmark,
    Timing,
    read_benchmarks,
    read_skipped,
    read_timings,
    write_benchmarks,
    write_skipped,
    write_timings,
)


def write_readme(run_dir):
    """``raw/README.md``: this package's docstring, the format."""
    _write_file(raw_path(run_dir, README), README_TITLE + '\n\n' + __doc__)
