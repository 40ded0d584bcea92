"""Resource limits of the harness: every input a user gives is bounded here.

Each limit is checked where the input is read, with a one-line error (or a
skipped file with the reason) that states it; ``python compare/run.py
--help`` prints :func:`help_text`. They are set well above what VOC, COCO
and the TF2 model zoo need, and well below what exhausts a machine. Weights
``.npz`` files are bounded in :mod:`replicate.npz` (the model library's one
reader of them; listed here too).
"""
from replicate import npz

#: Largest batch size of the speed benchmark (the memory of a forward grows
#: with the batch; 20,000 grew to 5.6 GB and died).
MAX_BATCH_SIZE = 64
#: Most batch sizes in one --batch-sizes list.
MAX_BATCH_SIZES = 8
#: Most timed calls per batch size (--repeats) and untimed ones (--warmup).
MAX_REPEATS = 1000
MAX_WARMUP = 100
#: Largest image file read (bytes); pixels are bounded by PIL's
#: decompression-bomb check (about 179 million pixels).
MAX_IMAGE_BYTES = 256 * 2 ** 20
#: Largest annotation file read: one VOC XML, or one COCO JSON (the COCO
#: train2017 instances file is 448 MB).
MAX_XML_BYTES = 16 * 2 ** 20
MAX_JSON_BYTES = 1024 * 2 ** 20
#: Most objects in one image's annotation.
MAX_OBJECTS_PER_IMAGE = 10000
#: Largest label map file.
MAX_LABEL_MAP_BYTES = 16 * 2 ** 20
#: A TF model zoo archive: most bytes once extracted, most members.
MAX_ARCHIVE_BYTES = 8 * 2 ** 30
MAX_ARCHIVE_MEMBERS = 10000
#: Longest detector name (it names files: raw/<name>.identity.json and others
#: must stay under the usual 255-byte file name limit).
MAX_NAME_LENGTH = 100
#: Most shards of one run (--shard K/N: N; an MPI job's size): COCO val's
#: 5,000 images would be one or two per shard.
MAX_SHARDS = 10000


def mib(count):
    """Bytes in words: ``'16 MiB'``, ``'8 GiB'``."""
    return '{} GiB'.format(count >> 30) if count >= 2 ** 30 else '{} MiB'.format(count >> 20)


def help_text():
    """The limits as the paragraph of ``--help``."""
    return ('Limits (each refused with a one-line error, or a skipped file with the reason): '
            '--batch-sizes at most {} sizes each <= {}; --repeats <= {}; --warmup <= {}; image '
            'files <= {}; a VOC XML file <= {} and a COCO JSON <= {}; <= {} objects per image; '
            'label maps <= {}; TF zoo archives <= {} extracted and <= {} members; weights '
            '.npz files {}; detector names <= {} characters; --shard K/N with N <= {}.'.format(
                MAX_BATCH_SIZES, MAX_BATCH_SIZE, MAX_REPEATS, MAX_WARMUP, mib(MAX_IMAGE_BYTES),
                mib(MAX_XML_BYTES), mib(MAX_JSON_BYTES), MAX_OBJECTS_PER_IMAGE,
                mib(MAX_LABEL_MAP_BYTES), mib(MAX_ARCHIVE_BYTES), MAX_ARCHIVE_MEMBERS,
                npz.limits_text(), MAX_NAME_LENGTH, MAX_SHARDS))
