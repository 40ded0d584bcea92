""":func:`read_arrays`: the one way replicate opens a user's ``.npz``.

``np.load(path, allow_pickle=False)`` says "Cannot load file containing
pickled data when allow_pickle=False" for any file that is not a zip archive
(it takes it for a pickle), so a text file or an empty one reads as "holds
pickled data"; it inflates whatever size a member claims (an 11 MB zip bomb
of one 2.5 GiB member took 2.9 GB of memory) and looks keys up in a list
(100,000 members: minutes). This reader tells the cases apart, in one line
naming the file:

- not a zip archive at all (wrong file, empty file);
- a zip archive that cannot be read (truncated, corrupt member);
- over a limit (below), read from the zip's central directory before any
  member is inflated: members, uncompressed bytes of one member and of all,
  compression ratio;
- a member that is not a plain ``.npy`` array of numbers, bools or strings
  (its header is read, not its data): a member holding pickled Python
  objects is refused before anything in it is unpickled (``allow_pickle`` is
  never on), other dtypes (structured, datetime, void) are refused too;
- missing or unreadable file (the OS error).

Callers append what file they expected (``expected=``), which is the fix.

The limits admit every real file with room to spare: SSD300 and SSD512
weights (about 100 MB in 70 members), ChainerCV's pretrained files, a
training snapshot (model plus optimizer state: a few hundred members), the
parity reference fixture (220 members, 5.7 MB uncompressed).
"""
import struct
import zipfile
import zlib

import numpy as np

from replicate.errors import UserError, one_line

#: The first bytes of a zip archive (an .npz is one).
ZIP_MAGIC = b'PK\x03\x04'
PICKLED = ('holds pickled Python objects; refused without unpickling anything '
           '(read with allow_pickle=False)')

#: Most members (arrays) in one .npz.
MAX_MEMBERS = 10000
#: Most bytes of one member once inflated, and of all of them.
MAX_MEMBER_BYTES = 2 ** 30
MAX_TOTAL_BYTES = 2 * 2 ** 30
#: Most uncompressed bytes per compressed byte over the whole file, checked
#: once it holds more than :data:`RATIO_FLOOR` bytes uncompressed (weights
#: compress about 1.1 : 1; a zip bomb of zeros about 1000 : 1).
MAX_RATIO = 100
RATIO_FLOOR = 64 * 2 ** 20
#: Most bytes of the zip's central directory (the list of members), read
#: before it is parsed: a legitimate entry takes about 100 bytes.
MAX_DIRECTORY_BYTES = 4 * 2 ** 20
#: dtype kinds a member may hold: bool, signed and unsigned ints, floats,
#: bytes and str (snapshots keep their JSON description as a str array).
ALLOWED_KINDS = 'biufSU'

#: The end-of-central-directory record: signature, 4 shorts, 2 longs, 1 short.
_END = struct.Struct('<4s4H2LH')
_END_MAGIC = b'PK\x05\x06'
_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0}


class _Refused(Exception):
    """A reason to refuse the file (the text of the message)."""


def size_text(count):
    """Bytes in words: ``'512 MiB'``, ``'2 GiB'``, ``'1.5 KiB'``."""
    for unit, scale in (('GiB', 2 ** 30), ('MiB', 2 ** 20), ('KiB', 2 ** 10)):
        if count >= scale:
            return '{:g} {}'.format(round(count / scale, 1), unit)
    return '{} bytes'.format(count)


def limits_text():
    """The limits in words, for docs and ``--help``."""
    return ('<= {} arrays (plain .npy of numbers, bools or strings), each <= {} and <= {} in '
            'all uncompressed, inflating at most {} times (over {})'.format(
                MAX_MEMBERS, size_text(MAX_MEMBER_BYTES), size_text(MAX_TOTAL_BYTES),
                MAX_RATIO, size_text(RATIO_FLOOR)))


def _reason(path):
    """Why ``path`` cannot be an .npz before numpy opens it, or None."""
    try:
        with open(path, 'rb') as f:
            magic = f.read(len(ZIP_MAGIC))
    except OSError as error:
        return error.strerror or str(error)
    if magic != ZIP_MAGIC:
        return 'not an .npz (zip) archive' + (' (the file is empty)' if not magic else '')
    return None


def _check_end_record(f):
    """Refuse a central directory too large to parse, from the end record
    alone (a record that cannot be found is left to :mod:`zipfile`)."""
    size = f.seek(0, 2)
    tail = min(size, _END.size + 65535)  # the record, then a comment of <= 64 KiB
    f.seek(size - tail)
    data = f.read(tail)
    at = data.rfind(_END_MAGIC)
    if at < 0 or len(data) - at < _END.size:
        return
    _, _, _, _, members, directory, _, _ = _END.unpack(data[at:at + _END.size])
    # 0xFFFF members: a zip64 archive of more than 65535 members
    if members > MAX_MEMBERS:
        raise _Refused('{}{} arrays, over the limit of {}'.format(
            'more than ' if members == 0xFFFF else '', members, MAX_MEMBERS))
    if directory > MAX_DIRECTORY_BYTES:
        raise _Refused('its list of members takes {}, over the limit of {}'.format(
            size_text(directory), size_text(MAX_DIRECTORY_BYTES)))


def _check_directory(infos):
    """Refuse by what the central directory says, before anything is inflated."""
    if len(infos) > MAX_MEMBERS:
        raise _Refused('{} arrays, over the limit of {}'.format(len(infos), MAX_MEMBERS))
    names = set()
    for info in infos:
        if not info.filename.endswith('.npy'):
            raise _Refused('member {!r} is not an .npy array'.format(info.filename[:100]))
        if info.filename in names:
            raise _Refused('member {!r} appears twice'.format(info.filename[:100]))
        names.add(info.filename)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused('member {!r} is compressed with method {} (numpy writes stored or '
                           'deflated members only)'.format(info.filename[:100],
                                                           info.compress_type))
        if info.file_size > MAX_MEMBER_BYTES:
            raise _Refused('member {!r} is {} uncompressed, over the limit of {} per array '
                           '(refused before inflating it)'.format(
                               info.filename[:100], size_text(info.file_size),
                               size_text(MAX_MEMBER_BYTES)))
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise _Refused('its arrays are {} uncompressed, over the limit of {} (refused before '
                       'inflating them)'.format(size_text(total), size_text(MAX_TOTAL_BYTES)))
    packed = sum(info.compress_size for info in infos)
    if total > RATIO_FLOOR and total > MAX_RATIO * packed:
        raise _Refused('its arrays inflate from {} to {}, more than {} times (a zip bomb, '
                       'not arrays of weights; refused before inflating them)'.format(
                           size_text(packed), size_text(total), MAX_RATIO))


def _check_header(archive, info):
    """Refuse a member that is not a plain .npy of an allowed dtype whose data
    is exactly what its header declares (only the header is inflated)."""
    name = info.filename[:100]
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version not in _HEADERS:
                raise ValueError('.npy format version {}.{}'.format(*version))
            shape, _, dtype = _HEADERS[version](member)
        except ValueError as exc:
            raise _Refused('member {!r} is not a plain .npy array ({})'.format(
                name, one_line(exc)[:200])) from None
        offset = member.tell()
    if dtype.hasobject:
        raise _Refused(PICKLED + ' (member {!r})'.format(name))
    if dtype.kind not in ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype:
        raise _Refused('member {!r} holds dtype {} (allowed: numbers, bools, strings)'.format(
            name, dtype.str if dtype.fields is None else 'structured'))
    count = 1
    for length in shape:
        count *= length
    if offset + count * dtype.itemsize != info.file_size:
        raise _Refused('member {!r} declares shape {} of {} ({} bytes) but holds {} bytes of '
                       'data'.format(name, shape, dtype.str, count * dtype.itemsize,
                                     info.file_size - offset))


def _read_checked(path):
    """``{key: array}`` of ``path`` once every limit and header is checked."""
    with open(path, 'rb') as f:
        _check_end_record(f)
        with zipfile.ZipFile(f) as archive:
            infos = archive.infolist()
            _check_directory(infos)
            for info in infos:
                _check_header(archive, info)
            arrays = {}
            for info in infos:
                with archive.open(info) as member:
                    arrays[info.filename[:-len('.npy')]] = np.lib.format.read_array(
                        member, allow_pickle=False)
            return arrays


def read_arrays(path, expected='an .npz of numeric arrays', prefix='cannot read',
                error=UserError):
    """All arrays of the .npz at ``path``, as ``{key: numpy array}``.

    Args:
        path (str): the file.
        expected (str): what the caller wanted, ending the message, e.g.
            ``'a snapshot or model .npz written by python -m replicate.train'``.
        prefix (str): the message's start before the path (e.g. ``'cannot
            read weights file'``).
        error: the :class:`UserError` class raised (e.g. ``WeightsError``).

    Raises:
        error: one line ``'{prefix} {path}: {reason}; expected {expected}'``
            where reason is one of those of the module docstring.
    """
    reason = _reason(path)
    if reason is None:
        try:
            return _read_checked(path)
        except _Refused as exc:
            reason = str(exc)
        except ValueError as exc:
            reason = (PICKLED if 'allow_pickle' in str(exc)
                      else 'corrupt .npz archive: {}'.format(one_line(exc)))
        except (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
                zlib.error) as exc:
            reason = 'truncated or corrupt .npz (zip) archive: {}'.format(
                one_line(exc) or type(exc).__name__)
    raise error('{} {}: {}; expected {}'.format(prefix, path, reason, expected))
