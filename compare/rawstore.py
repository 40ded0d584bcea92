"""``raw/<detector>.jsonl``: one JSON record per image, appended and flushed.

Resuming relies on two facts: a record is written with ONE ``write`` call
ending in ``\\n`` and flushed (and fsync'ed) before the next image starts, and
a process killed mid-write can only leave a partial LAST line. On restart
:func:`read_records` drops such a line (truncating the file to the last
complete record), so no row is lost or duplicated.
"""
import json
import os

from compare.errors import UserError


def read_records(path):
    """Complete records of ``path`` (``[]`` if absent); drops a partial last line.

    Raises:
        UserError: a complete line in the middle is not JSON, or an image
            appears twice (the file was not written by this harness).
    """
    if not os.path.exists(path):
        return []
    with open(path, 'rb') as f:
        data = f.read()
    complete = data[:data.rfind(b'\n') + 1]
    if len(complete) != len(data):
        # a run was killed mid-write: keep only whole lines
        with open(path, 'r+b') as f:
            f.truncate(len(complete))
    records, seen = [], set()
    for number, line in enumerate(complete.decode('utf-8').splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError('{} line {} is not JSON ({}); delete the file or run with --force'
                            .format(path, number, exc.msg)) from None
        if record['image'] in seen:
            raise UserError('{} has image {} twice; delete the file or run with --force'.format(
                path, record['image']))
        seen.add(record['image'])
        records.append(record)
    return records


class RecordWriter:
    """Appends records to a ``.jsonl`` file, one flushed line each."""

    def __init__(self, path):
        self.path = path
        self.file = open(path, 'a', encoding='utf-8')

    def write(self, record):
        self.file.write(json.dumps(record, sort_keys=True) + '\n')
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self):
        self.file.close()


#: Written as ``raw/README.md`` by every run: what each raw file holds.
README = """# Raw outputs of a comparison run (written by compare/run.py)

- `<detector>.jsonl`: one JSON object per image and detector, appended and flushed per
  image (an interrupted run resumes from here). Keys: `image` (path relative to the
  images folder, posix), `height`, `width` (pixels, EXIF orientation applied),
  `detections` (list of `y_min`, `x_min`, `y_max`, `x_max` in pixels of that image,
  `label` = the detector's own id, `name` = its class name, `score`), `times`
  (`preprocess`, `inference`, `postprocess` seconds for this image, batch 1).
- `timings.csv`: speed benchmark. `detector`, `batch_size`, `repeat` (0-based, after
  warm-up), `stage` (`preprocess`, `inference`, `postprocess`, `total` = wall clock of
  the whole predict call), `seconds` for the WHOLE batch.
- `skipped.csv`: `image`, `reason` for files not run (not an image, unreadable).
- `<detector>.error.txt`: traceback when a detector failed with an unexpected error.

The detectors' weights, devices, thread counts and statuses are in `../meta.json`.
"""


def write_readme(raw_dir):
    with open(os.path.join(raw_dir, 'README.md'), 'w') as f:
        f.write(README)
