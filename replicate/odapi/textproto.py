"""A reader for protocol-buffer text format (the OD API's ``pipeline.config``),
without the OD API's generated classes.

The result is schema-free: a message is a :class:`Message`, an ordered mapping
from field name to the list of its values in file order (a repeated field has
several, an optional one at most one). A value is a :class:`Message`, a
``str`` (quoted strings, unescaped) or a :class:`Token` (an unquoted number,
enum name or boolean, kept as written). :mod:`replicate.odapi.config` gives the
fields their types and defaults.

Accepted syntax (what ``text_format.MessageToString`` writes, plus what people
write by hand): ``name: value``, ``name { ... }``, ``name: { ... }``,
``name < ... >``, lists ``name: [v, v]``, ``#`` comments, optional ``,`` or
``;`` between fields, single- or double-quoted strings with C escapes,
adjacent strings concatenated. Nothing in the file is executed.
"""
import codecs
import re

from replicate.odapi.errors import ConfigError

_TOKEN = re.compile(r'''
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<word>[A-Za-z0-9_.+-]+)
  | (?P<punct>[{}<>\[\]:,;])
''', re.VERBOSE)
_CLOSE = {'{': '}', '<': '>'}


class Token(str):
    """An unquoted scalar exactly as written (``0.25``, ``true``, ``RELU_6``)."""


class Message(dict):
    """Field name -> list of values, in file order (see the module doc)."""


def _tokens(text, path):
    """Yield ``(kind, text, line)``; raise ConfigError on a stray character."""
    pos, line = 0, 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ConfigError('{}:{}: cannot read {!r} (not protobuf text format)'.format(
                path, line, text[pos:pos + 20]))
        kind = match.lastgroup
        if kind != 'space':
            yield kind, match.group(), line
        line += match.group().count('\n')
        pos = match.end()


def _unquote(token, path, line):
    body = token[1:-1]
    try:
        return codecs.escape_decode(body.encode('utf-8'))[0].decode('utf-8')
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError('{}:{}: bad string {} ({})'.format(path, line, token, exc)) from None


class _Parser:
    def __init__(self, text, path):
        self.tokens = list(_tokens(text, path))
        self.pos = 0
        self.path = path

    def error(self, what):
        line = self.tokens[min(self.pos, len(self.tokens) - 1)][2] if self.tokens else 1
        return ConfigError('{}:{}: {}'.format(self.path, line, what))

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None, None)

    def take(self, expected=None):
        kind, text, _ = self.peek()
        if kind is None:
            raise self.error('unexpected end of file' +
                             (', expected {!r}'.format(expected) if expected else ''))
        if expected is not None and text != expected:
            raise self.error('expected {!r}, found {!r}'.format(expected, text))
        self.pos += 1
        return kind, text

    def message(self, close):
        """Fields up to ``close`` (None: end of file)."""
        fields = Message()
        while True:
            kind, text, _ = self.peek()
            if kind is None or text == close:
                if text != close:
                    raise self.error('unexpected end of file, expected {!r}'.format(close))
                return fields
            if text in (',', ';'):
                self.pos += 1
                continue
            if kind != 'word':
                raise self.error('expected a field name, found {!r}'.format(text))
            self.pos += 1
            fields.setdefault(text, []).extend(self.field_values())

    def field_values(self):
        """The value(s) after a field name: a message, or ``: scalar``, or ``: [...]``."""
        colon = self.peek()[1] == ':'
        if colon:
            self.pos += 1
        text = self.peek()[1]
        if not colon and text not in _CLOSE:
            raise self.error('expected ":" or "{" after a field name')
        if text != '[':
            return [self.value()]
        self.pos += 1
        values = []
        while self.peek()[1] != ']':
            values.append(self.value())
            if self.peek()[1] == ',':
                self.pos += 1
        self.take(']')
        return values

    def value(self):
        """One message ``{...}`` / ``<...>`` or one scalar."""
        text = self.peek()[1]
        if text not in _CLOSE:
            return self.scalar()
        self.pos += 1
        value = self.message(_CLOSE[text])
        self.take(_CLOSE[text])
        return value

    def scalar(self):
        kind, text, line = self.peek()
        if kind == 'word':
            self.pos += 1
            return Token(text)
        if kind != 'string':
            raise self.error('expected a value, found {!r}'.format(text))
        parts = []
        while self.peek()[0] == 'string':  # adjacent strings concatenate
            _, token, line = self.peek()
            parts.append(_unquote(token, self.path, line))
            self.pos += 1
        return ''.join(parts)


def parse(text, path='<text>'):
    """Parse protobuf text format into a :class:`Message`.

    Args:
        text (str): the file's contents.
        path (str): named in error messages.

    Raises:
        replicate.odapi.errors.ConfigError: the text is not protobuf text
            format (the message names the file and line), or nests messages
            deeper than Python's recursion allows (no pipeline comes close).
    """
    try:
        return _Parser(text, path).message(None)
    except RecursionError:
        raise ConfigError('{}: messages nested too deeply (not an OD API pipeline)'.format(
            path)) from None


def read(path):
    """Parse the text-format file at ``path`` (see :func:`parse`)."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError('cannot read {}: {}'.format(path, exc)) from None
    return parse(text, path)
