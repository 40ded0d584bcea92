"""The TF OD API ``label_map.pbtxt``, read exactly as the OD API reads it,
and the COCO map shipped as data.

A label map is a ``StringIntLabelMap`` message in protobuf text format::

    item {
      name: "/m/01g317"        # optional
      id: 1
      display_name: "person"   # optional
    }

The OD API reads it with ``label_map_util.load_labelmap``, which is
protobuf's own ``text_format.Merge`` into that message, then
``_validate_label_map``; ``create_category_index_from_labelmap`` then turns
it into ``{id: name}``. This module does the same three steps:

1. ``google.protobuf.text_format.Merge`` into a ``StringIntLabelMap`` whose
   descriptor is built here in code (:data:`PROTO`: the fields of the OD
   API's ``string_int_label_map.proto``, keypoints, hierarchy and LVIS fields
   included), in a private descriptor pool. So the syntax is protobuf's, not
   an imitation: ``item {`` / ``item: {`` / ``item <``, fields in any order
   separated by spaces, commas or semicolons, ``#`` comments anywhere,
   single or double quotes, every escape (``\\"``, ``\\n``, octal UTF-8
   bytes such as ``"caf\\303\\251"`` as protobuf's own writer emits them,
   ``\\x..``, ``\\u....``), a field given twice in an item (the last one wins,
   as ``Merge`` does), and its refusals: unknown fields, an id that is not a
   32-bit integer, unbalanced braces, text that is not UTF-8.
   protobuf comes with TensorFlow, which every TF adapter needs anyway; it
   is imported when a map is read, never at import time.
2. The OD API's checks: a negative id is refused; id 0 is refused unless the
   item's ``name`` or ``display_name`` is ``background`` (it is then not a
   class). Errors name the file and the line of the item.
3. The OD API's ``{id: name}``: an item's name is its ``display_name`` when
   the field is set, else its ``name``; when an id appears twice, the FIRST
   item wins (``convert_label_map_to_categories``); :func:`read_label_map`
   reports those duplicates so the adapter can record them. One deviation,
   because a class must have a name to be scored: an empty name becomes
   ``unnamed_id_<id>``.
"""
import dataclasses
import os
import re

from compare.errors import UserError
from compare.limits import MAX_LABEL_MAP_BYTES, mib
from replicate.errors import one_line

#: The COCO label map of the TF model zoo (90 ids, 80 used), shipped as data.
COCO_LABEL_MAP = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data',
                              'mscoco_label_map.pbtxt')

#: ``string_int_label_map.proto`` of the OD API (package object_detection.protos):
#: ``(message, [(field, number, label, type, type name)])``, a nested message after
#: its outer one.
PROTO = (
    ('StringIntLabelMapItem', [('name', 1, 'optional', 'string', None),
                               ('id', 2, 'optional', 'int32', None),
                               ('display_name', 3, 'optional', 'string', None),
                               ('keypoints', 4, 'repeated', 'message',
                                'StringIntLabelMapItem.KeypointMap'),
                               ('ancestor_ids', 5, 'repeated', 'int32', None),
                               ('descendant_ids', 6, 'repeated', 'int32', None),
                               ('frequency', 7, 'optional', 'enum', 'LVISFrequency'),
                               ('instance_count', 8, 'optional', 'int32', None)]),
    ('StringIntLabelMapItem.KeypointMap', [('id', 1, 'optional', 'int32', None),
                                           ('label', 2, 'optional', 'string', None)]),
    ('StringIntLabelMap', [('item', 1, 'repeated', 'message', 'StringIntLabelMapItem')]),
)
#: The proto's one enum.
LVIS_FREQUENCY = ('LVISFrequency', ('UNSPECIFIED', 'FREQUENT', 'COMMON', 'RARE'))
_PACKAGE = 'object_detection.protos'


@dataclasses.dataclass(frozen=True)
class LabelMap:
    """A label map as the OD API reads it.

    Attributes:
        names: ``{id: name}`` of the classes (ids >= 1).
        duplicates: ``{id: (line, ...)}`` of ids given by more than one item
            (1-based lines of those items; the first one's name is used).
    """
    names: dict
    duplicates: dict

    def notes(self):
        """One line per duplicated id, for the detector's info ('' if none)."""
        return '; '.join('id {} is given on lines {}: the first ({!r}) is used, as the OD API '
                         'does'.format(item_id, ', '.join(map(str, lines)), self.names[item_id])
                         for item_id, lines in sorted(self.duplicates.items()))


def parse_label_map(path):
    """``{id: name}`` of a ``label_map.pbtxt`` (see :func:`read_label_map`)."""
    return read_label_map(path).names


def read_label_map(path):
    """Read ``path`` as the OD API's ``label_map_util`` does (module doc).

    Returns:
        :class:`LabelMap`.

    Raises:
        UserError: unreadable file, text the OD API cannot parse, an id it
            refuses, or no item at all; the message names the file and line.
    """
    text = _read_text(path)
    message = _message_class()()
    text_format = _text_format()
    try:
        text_format.Merge(text, message)
    except text_format.ParseError as exc:
        where = 'line {} column {}'.format(exc.GetLine(), exc.GetColumn()) \
            if exc.GetLine() is not None else 'parse error'
        detail = re.sub(r'^\d+:\d+ : ', '', one_line(exc))
        raise UserError('label map {} {}: {} (the OD API refuses it too; fix the file)'.format(
            path, where, detail)) from None
    lines = item_lines(text)
    names, duplicates = {}, {}
    for index, item in enumerate(message.item):
        line = lines[index] if index < len(lines) else '?'
        _validate(item, path, line)
        if item.id == 0:
            continue  # the background item: not a class
        if item.id in names:
            duplicates.setdefault(item.id, [_first_line(lines, message, item.id)]).append(line)
            continue
        name = item.display_name if item.HasField('display_name') else item.name
        names[item.id] = name or 'unnamed_id_{}'.format(item.id)
    if not names:
        raise UserError('label map {} has no item {{ id: N ... }} with an id >= 1; the OD API '
                        'label map format is: item {{ id: 1 name: "person" }}'.format(path))
    return LabelMap(names, {k: tuple(v) for k, v in duplicates.items()})


def _validate(item, path, line):
    """The OD API's ``_validate_label_map`` for one item."""
    if item.id < 0:
        raise UserError('label map {} line {}: id {} is negative; the OD API requires ids >= 0 '
                        '(classes start at 1)'.format(path, line, item.id))
    if item.id == 0 and 'background' not in (item.name, item.display_name):
        raise UserError('label map {} line {}: id 0 is reserved for the background (the OD API '
                        'refuses it for {!r}); number classes from 1'.format(
                            path, line, item.display_name or item.name))


def _first_line(lines, message, item_id):
    """Line of the first item with ``item_id``."""
    for index, item in enumerate(message.item):
        if item.id == item_id:
            return lines[index] if index < len(lines) else '?'
    return '?'


def _read_text(path):
    try:
        if os.path.getsize(path) > MAX_LABEL_MAP_BYTES:
            raise UserError('label map {} is larger than {} (the limit)'.format(
                path, mib(MAX_LABEL_MAP_BYTES)))
        with open(path, 'rb') as f:
            data = f.read(MAX_LABEL_MAP_BYTES + 1)
    except OSError as exc:
        raise UserError('cannot read label map {}: {}'.format(path, exc.strerror)) from None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise UserError('label map {} is not UTF-8 text (byte {} at offset {}); the OD API reads '
                        'it as UTF-8 text: re-save it as UTF-8'.format(
                            path, hex(data[exc.start]), exc.start)) from None


def item_lines(text):
    """1-based line of each top-level ``item`` of a map protobuf has parsed.

    Strings and comments are skipped, ``{``/``<`` and ``}``/``>`` counted, so
    an ``item`` inside a string, a comment or a nested message is not one.
    """
    lines, depth, line = [], 0, 1
    token = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[{<}>]|\n|\w+')
    for match in token.finditer(text):
        value = match.group()
        if value == '\n':
            line += 1
        elif value in '{<':
            depth += 1
        elif value in '}>':
            depth -= 1
        elif value == 'item' and depth == 0:
            lines.append(line)
    return lines


def _text_format():
    from google.protobuf import text_format
    return text_format


_MESSAGE_CLASS = []


def _message_class():
    """The ``StringIntLabelMap`` class, built once from :data:`PROTO`."""
    if not _MESSAGE_CLASS:
        try:
            from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        except ImportError as exc:
            raise UserError('cannot read OD API label maps without protobuf ({}); it comes '
                            'with tensorflow: pip install tensorflow'.format(exc)) from None
        pool = descriptor_pool.DescriptorPool()
        pool.Add(_file_descriptor(descriptor_pb2))
        found = pool.FindMessageTypeByName(_PACKAGE + '.StringIntLabelMap')
        make = getattr(message_factory, 'GetMessageClass', None)
        _MESSAGE_CLASS.append(make(found) if make else
                              message_factory.MessageFactory(pool).GetPrototype(found))
    return _MESSAGE_CLASS[0]


def _file_descriptor(descriptor_pb2):
    """``FileDescriptorProto`` of :data:`PROTO` (proto2)."""
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name='object_detection/protos/string_int_label_map.proto', package=_PACKAGE,
        syntax='proto2')
    enum_name, values = LVIS_FREQUENCY
    proto.enum_type.add(name=enum_name).value.extend(
        descriptor_pb2.EnumValueDescriptorProto(name=v, number=i) for i, v in enumerate(values))
    messages = {}
    for full_name, fields in PROTO:
        outer, _, inner = full_name.rpartition('.')
        message = (messages[outer].nested_type.add(name=inner) if outer
                   else proto.message_type.add(name=full_name))
        messages[full_name] = message
        for name, number, label, kind, type_name in fields:
            entry = message.field.add(
                name=name, number=number,
                label=getattr(field, 'LABEL_' + label.upper()),
                type=getattr(field, 'TYPE_' + kind.upper()))
            if type_name:
                entry.type_name = '.{}.{}'.format(_PACKAGE, type_name)
    return proto
