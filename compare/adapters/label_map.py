"""The TF OD API ``label_map.pbtxt``: parsing, and the COCO map shipped as data.

A label map file is text protobuf of the form::

    item {
      id: 1
      name: "/m/01g317"        # optional
      display_name: "person"   # optional
    }

Parsed here by a small tokenizer (no ``object_detection`` package needed).
The class name of an id is ``display_name`` if given, else ``name``.
"""
import os
import re

from compare.errors import UserError

#: The COCO label map of the TF model zoo (90 ids, 80 used), shipped as data.
COCO_LABEL_MAP = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data',
                              'mscoco_label_map.pbtxt')

# tokens: '{', '}', 'key:' , quoted strings, bare words/numbers; comments dropped
_TOKEN = re.compile(r'\s*(?:(#[^\n]*)'            # comment
                    r'|([{}])'                   # brace
                    r'|(\w+)\s*:'                # key:
                    r'|"((?:[^"\\]|\\.)*)"'       # "string"
                    r"|'((?:[^'\\]|\\.)*)'"       # 'string'
                    r'|([^\s{}"\']+))')          # bare word or number


def parse_label_map(path):
    """``{id: name}`` from a ``label_map.pbtxt``.

    Raises:
        UserError: unreadable file, syntax error, item without id, duplicate id.
    """
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as exc:
        raise UserError('cannot read label map {}: {}'.format(path, exc.strerror)) from None
    items = [_item_name(item, path) for item in _items(text, path)]
    names = {}
    for item_id, name in items:
        if item_id in names:
            raise UserError('label map {}: id {} appears twice'.format(path, item_id))
        names[item_id] = name
    if not names:
        raise UserError('label map {} has no item {{ id: .. }} entries'.format(path))
    return names


def _tokens(text, path):
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == '':
                return
            raise UserError('label map {}: cannot parse near {!r}'.format(
                path, text[position:position + 30]))
        position = match.end()
        comment, brace, key, dq, sq, bare = match.groups()
        if comment is None:
            yield ('brace', brace) if brace else ('key', key) if key else (
                'value', dq if dq is not None else sq if sq is not None else bare)


def _items(text, path):
    """Yield one ``{field: value}`` dict per top-level ``item { ... }``."""
    tokens = list(_tokens(text, path))
    index = 0
    while index < len(tokens):
        kind, value = tokens[index]
        if (kind, value) != ('value', 'item') or tokens[index + 1:index + 2] != [('brace', '{')]:
            raise UserError('label map {}: expected "item {{", found {!r}'.format(path, value))
        fields, index, depth = {}, index + 2, 0
        while index < len(tokens) and (depth > 0 or tokens[index] != ('brace', '}')):
            kind, value = tokens[index]
            if kind == 'brace':  # nested messages (keypoints, ...) are skipped
                depth += 1 if value == '{' else -1
                index += 1
            elif kind == 'key' and depth == 0 and tokens[index + 1:index + 2] and \
                    tokens[index + 1][0] == 'value':
                fields[value] = tokens[index + 1][1]
                index += 2
            else:
                index += 1
        if index >= len(tokens):
            raise UserError('label map {}: unclosed item {{'.format(path))
        yield fields
        index += 1


def _item_name(fields, path):
    if 'id' not in fields or not fields['id'].lstrip('-').isdigit():
        raise UserError('label map {}: an item has no integer id ({})'.format(path, fields))
    name = fields.get('display_name') or fields.get('name') or 'id{}'.format(fields['id'])
    return int(fields['id']), name
