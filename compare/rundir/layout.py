"""The names of a run folder's files: the one place they are spelled (the
format is the package docstring, :mod:`compare.rundir`)."""
import os
import re

from compare.detections import STAGES

META = 'meta.json'
RAW = 'raw'
SUMMARY = 'summary.md'
REPORT = 'report.html'
FIGURES = 'figures'
STATES = ('running', 'interrupted', 'failed', 'complete')
#: The lock file of a run folder (:mod:`compare.rundir.lock`).
LOCK = 'lock'
#: The stages of raw/timings.csv: the detector's own, then the whole call.
TIMING_STAGES = STAGES + ('total',)
TIMING_COLUMNS = ('detector', 'batch_size', 'repeat', 'stage', 'seconds')
SKIPPED_COLUMNS = ('image', 'reason')
_RECORD_KEYS = {'image', 'height', 'width', 'detections', 'times'}
#: Table name -> the keys its rows are sorted by (written by scoring).
TABLES = {
    'detections': ('detector', 'image', 'rank'),
    'agreement_summary': ('detector_a', 'detector_b'),
    'agreement_per_class': ('detector_a', 'detector_b', 'class'),
    'agreement_per_image': ('detector_a', 'detector_b', 'image'),
    'agreement_pairs': ('detector_a', 'detector_b', 'image', 'class', 'status', 'rank_a',
                        'rank_b'),
    'speed': ('detector', 'batch_size'),
    'map_summary': ('detector',),
    'map_per_class': ('detector', 'class'),
    'map_conventions': ('metric',),
    'coco_summary': ('detector',),
    'metric_names': ('table', 'column'),
    'tide': ('detector',),
    'diagnosis': ('detector',),
    'diagnosis_per_image': ('detector', 'image'),
    'sweep': ('detector', 'score_thresh'),
    'confusion': ('detector', 'truth', 'predicted'),
    'decode_grid': ('detector', 'nms_thresh', 'score_thresh'),
    'classes': ('canonical',),
    'headline': ('position',),
    'pairs': ('position',),
    'findings': ('position',),
    'score_warnings': (),
}
#: Per-detection tables: CSV only (hundreds of KB of Markdown nobody reads).
CSV_ONLY = ('detections', 'agreement_pairs')

#: This text's copy under raw/.
README = 'README.md'
#: Its first line: a folder whose raw/README.md starts so was made by this suite.
README_TITLE = '# The run folder (written by compare/run.py)'
#: The kept network outputs' folder under raw/ (``--keep-raw``).
NETOUT = 'netout'
#: A shard's own file under raw/ (``--shard K/N``).
SHARD = 'shard.json'
#: The folder of RUN holding the shard folders ``K-of-N``.
SHARDS = 'shards'
#: ``K-of-N``, each at most 6 digits 0-9 (more than compare.limits.MAX_SHARDS
#: needs; a longer name is no shard folder: int() of thousands of digits raises).
_SHARD_FOLDER = re.compile(r'([0-9]{1,6})-of-([0-9]{1,6})')
#: What each detector leaves under raw/: ``<detector><suffix>``.
RECORDS_SUFFIX, IDENTITY_SUFFIX, ERROR_SUFFIX = '.jsonl', '.identity.json', '.error.txt'


def raw_path(run_dir, name):
    """``<run_dir>/raw/<name>``."""
    return os.path.join(run_dir, RAW, name)


def records_file(run_dir, detector):
    """``raw/<detector>.jsonl``."""
    return raw_path(run_dir, detector + RECORDS_SUFFIX)


def identity_file(run_dir, detector):
    """``raw/<detector>.identity.json``."""
    return raw_path(run_dir, detector + IDENTITY_SUFFIX)


def error_file(run_dir, detector):
    """``raw/<detector>.error.txt``."""
    return raw_path(run_dir, detector + ERROR_SUFFIX)


def detector_files(run_dir):
    """Every ``raw/<detector>.jsonl``, ``.identity.json`` and ``.error.txt``
    (glob patterns, one per kind of file)."""
    return [raw_path(run_dir, '*' + suffix)
            for suffix in (RECORDS_SUFFIX, IDENTITY_SUFFIX, ERROR_SUFFIX)]


def table_files(name):
    """The file names of table ``name`` of :data:`TABLES`: ``(name.csv,
    name.md)``, or ``(name.csv,)`` for :data:`CSV_ONLY`."""
    return (name + '.csv',) if name in CSV_ONLY else (name + '.csv', name + '.md')


def shard_folder(run_dir, k, n):
    """``RUN/shards/K-of-N``."""
    return os.path.join(run_dir, SHARDS, '{}-of-{}'.format(k, n))


def shard_of_folder(path):
    """``(k, n)`` from a shard folder's name ``K-of-N``, or None."""
    match = _SHARD_FOLDER.fullmatch(os.path.basename(os.path.normpath(path)))
    return (int(match.group(1)), int(match.group(2))) if match else None


def is_run_folder(path):
    """Whether ``path`` holds a run folder's ``meta.json`` and ``raw/``."""
    return os.path.isfile(os.path.join(path, META)) and os.path.isdir(os.path.join(path, RAW))


#: The names the report's figures take under figures/ (``clear_figures``
#: removes these and nothing else): pictures of detections and disagreements,
#: charts per class or detector, and the single charts.
_FIGURE = re.compile(r'^(?:(?:det|dis)_\d{3}_[\w-]+\.jpg|(?:pr|confusion)_[\w-]+\.png|'
                     r'(?:speed_accuracy|errors|sweep|grid)\.png)$')


def is_figure(name):
    """Whether ``name`` (a file name under figures/) is one the report draws."""
    return bool(_FIGURE.match(name))


def figure(name):
    """The path of figure ``name`` (e.g. ``pr_ours.png``) relative to the run folder.

    Raises:
        ValueError: a name :func:`is_figure` does not own (a bug: add its
            pattern there, so a later scoring removes it).
    """
    if not is_figure(name):
        raise ValueError('figure name {!r} is not one of compare.rundir.layout'.format(name))
    return os.path.join(FIGURES, name)


#: The entries of a run folder's top level that the run and scoring write.
TOP_LEVEL = (META, LOCK, SUMMARY, REPORT, FIGURES, RAW, SHARDS) + tuple(
    file for name in TABLES for file in table_files(name))


def is_owned(name):
    """Whether ``name``, an entry of a run folder's top level, is one the
    suite writes there (:data:`TOP_LEVEL`, or the ``.part`` of a file being
    written atomically)."""
    return name in TOP_LEVEL or (name.endswith('.part') and name[:-len('.part')] in TOP_LEVEL)
