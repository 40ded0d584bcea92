"""The protocol-buffer wire format, read from bytes without generated classes.

A message is a sequence of fields, each a *tag* (a varint: field number << 3 |
wire type) followed by its value:

===========  =====================  =========================================
wire type    value                  used here for
===========  =====================  =========================================
0 varint     1-10 bytes, 7 bits     int32/int64/uint32/bool/enum
1 fixed64    8 bytes little-endian  double (unpacked)
2 length     varint n, then n bytes string, bytes, sub-message, packed repeated
5 fixed32    4 bytes little-endian  float (unpacked)
===========  =====================  =========================================

Wire types 3 and 4 (groups, deprecated since proto2) are refused. Every read
is bounds-checked against the end of the enclosing message before anything
is sliced or allocated, so a truncated or hostile file raises
:class:`~replicate.caffe.errors.CaffeError` naming the file, the message being
read and the byte offset; nothing in the file is executed or unpickled.
"""
import numpy as np

from replicate.caffe.errors import CaffeError

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
_WIRE_NAMES = {VARINT: 'varint', FIXED64: 'fixed64', LENGTH: 'length-delimited',
               FIXED32: 'fixed32'}
#: A varint holds at most 64 bits: 10 bytes of 7 bits.
_MAX_VARINT_BYTES = 10


class Reader:
    """Fields of one message in ``buf[start:end]``.

    Args:
        buf (bytes): the whole file.
        start, end (int): the message's byte range.
        path (str): the file, named in errors.
        what (str): the message being read (``"layer 12 (conv1) blob 0"``).
    """

    def __init__(self, buf, start, end, path, what):
        self.buf, self.pos, self.end, self.path, self.what = buf, start, end, path, what

    def error(self, problem, at=None):
        return CaffeError('{}: {} at byte {}: {} (not a Caffe .caffemodel, or a truncated '
                          'or damaged one)'.format(self.path, self.what,
                                                   self.pos if at is None else at, problem))

    def done(self):
        return self.pos >= self.end

    def varint(self):
        """The next varint as a non-negative int (< 2**64)."""
        value, shift, start = 0, 0, self.pos
        while True:
            if self.pos >= self.end:
                raise self.error('varint runs past the end of the message', start)
            byte = self.buf[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if self.pos - start >= _MAX_VARINT_BYTES:
                raise self.error('varint longer than 10 bytes', start)

    def tag(self):
        """``(field number, wire type)`` of the next field."""
        start = self.pos
        key = self.varint()
        number, wire = key >> 3, key & 7
        if number == 0:
            raise self.error('field number 0', start)
        if wire not in _WIRE_NAMES:
            raise self.error('wire type {} (groups and unknown types are not read)'.format(
                wire), start)
        return number, wire

    def _take(self, n, what):
        if n > self.end - self.pos:
            raise self.error('{} of {} bytes runs past the end of the message ({} bytes '
                             'left)'.format(what, n, self.end - self.pos))
        start = self.pos
        self.pos += n
        return start, self.pos

    def span(self):
        """A length-delimited value: its ``(start, end)`` byte range."""
        return self._take(self.varint(), 'a length-delimited field')

    def fixed32(self):
        start, _ = self._take(4, 'a fixed32 field')
        return start

    def fixed64(self):
        start, _ = self._take(8, 'a fixed64 field')
        return start

    def skip(self, wire):
        """Skip a value of this wire type (a field this reader does not use)."""
        if wire == VARINT:
            self.varint()
        elif wire == FIXED64:
            self.fixed64()
        elif wire == LENGTH:
            self.span()
        else:
            self.fixed32()

    def expect(self, wire, expected, name):
        if wire != expected:
            raise self.error('field {} has wire type {}, expected {}'.format(
                name, _WIRE_NAMES[wire], _WIRE_NAMES[expected]))

    def string(self, limit, name):
        """A UTF-8 string field of at most ``limit`` bytes."""
        start, end = self.span()
        if end - start > limit:
            raise self.error('{} is {} bytes long, more than the {} allowed'.format(
                name, end - start, limit), start)
        try:
            return self.buf[start:end].decode('utf-8')
        except UnicodeDecodeError:
            raise self.error('{} is not UTF-8'.format(name), start) from None

    def packed(self, dtype, name):
        """A packed repeated field of fixed-size ``dtype`` ('<f4', '<f8'):
        a read-only view of the bytes (nothing is copied)."""
        start, end = self.span()
        size = np.dtype(dtype).itemsize
        if (end - start) % size:
            raise self.error('packed {} holds {} bytes, not a multiple of {}'.format(
                name, end - start, size), start)
        return np.frombuffer(self.buf, dtype, (end - start) // size, start)

    def packed_varints(self, name, limit):
        """A packed repeated varint field (at most ``limit`` values) as a list of int."""
        start, end = self.span()
        inner = Reader(self.buf, start, end, self.path, '{} {}'.format(self.what, name))
        values = []
        while not inner.done():
            if len(values) >= limit:
                raise self.error('{} holds more than {} values'.format(name, limit), start)
            values.append(inner.varint())
        return values

    def fixed32_run(self, tag_bytes, dtype='<f4'):
        """An unpacked repeated fixed32 field: this value (the tag is read) and
        every directly following one with the same tag, as one array.

        Unpacked floats lie 5 bytes apart (1 tag byte + 4 value bytes for
        field numbers below 16); they are found with one vectorised compare
        instead of a Python loop.
        """
        start = self.fixed32()
        step = len(tag_bytes) + 4
        count = 1 + (self.end - self.pos) // step
        rows = np.frombuffer(self.buf, np.uint8, (count - 1) * step, self.pos).reshape(-1, step)
        same = (rows[:, :len(tag_bytes)] == np.frombuffer(tag_bytes, np.uint8)).all(axis=1)
        run = int(np.argmin(same)) if not same.all() else len(same)
        values = np.empty(1 + run, dtype=np.float32)
        values[0] = np.frombuffer(self.buf, dtype, 1, start)[0]
        if run:
            values[1:] = rows[:run, len(tag_bytes):].copy().view(dtype).ravel()
        self.pos += run * step
        return values


def signed(value, bits=64):
    """A varint decoded as two's complement (int32/int64 fields)."""
    return value - (1 << bits) if value >= 1 << (bits - 1) else value
