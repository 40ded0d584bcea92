"""The protobuf text-format reader (pipeline.config)."""
import pytest

from replicate.odapi import textproto
from replicate.odapi.errors import ConfigError


def test_fields_messages_and_repeated_values_in_file_order():
    message = textproto.parse('''
        # a comment
        a: 1  a: 2.5e-3
        b { c: "x" d: 'y\\'z' }
        b { }
        e: RELU_6, f: true;
    ''')
    assert message['a'] == ['1', '2.5e-3']
    assert [sub['c'] if 'c' in sub else None for sub in message['b']] == [['x'], None]
    assert message['b'][0]['d'] == ["y'z"]
    assert message['e'] == ['RELU_6'] and isinstance(message['e'][0], textproto.Token)
    assert message['f'] == ['true']


def test_hand_written_forms():
    message = textproto.parse('a: { b: 1 } c < d: 2 > e: [1, 2, 3] f: "ab" "cd" '
                              'g: [{h: 1}, {h: 2}]')
    assert message['a'][0]['b'] == ['1']
    assert message['c'][0]['d'] == ['2']
    assert message['e'] == ['1', '2', '3']
    assert message['f'] == ['abcd']
    assert [m['h'] for m in message['g']] == [['1'], ['2']]


@pytest.mark.parametrize('text, where, what', [
    ('a { b: 1', ':1:', "expected '}'"),
    ('a: 1\n}', ':2:', 'expected a field name'),
    ('a 1', ':1:', 'expected ":" or "{"'),
    ('a: "unterminated', ':1:', 'cannot read'),
    ('a: @', ':1:', 'cannot read'),
])
def test_syntax_errors_name_the_line(text, where, what):
    with pytest.raises(ConfigError, match=what) as info:
        textproto.parse(text, 'p.config')
    assert str(info.value).startswith('p.config' + where)
    assert '\n' not in str(info.value)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match='cannot read .*nope.config'):
        textproto.read(str(tmp_path / 'nope.config'))
