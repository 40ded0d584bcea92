"""The label-map reader against the TF OD API itself: every file of
tests/fixtures/label_maps/ (our own files, in the styles of the OD API's
data/ folder) was read by the OD API's label_map_util
(tools/odapi_label_maps.py, recorded in odapi_reads.json); ours must give
the same ``{id: name}`` or refuse the same files."""
import json
import os

import pytest

from compare.adapters.label_map import COCO_LABEL_MAP, item_lines, parse_label_map, read_label_map
from compare.errors import UserError

CORPUS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'label_maps')
with open(os.path.join(CORPUS, 'odapi_reads.json'), encoding='utf-8') as _f:
    READINGS = json.load(_f)['readings']
#: Line of the item the OD API's validation refuses, per refused file.
REFUSED_LINE = {'refused_id_zero.pbtxt': 5, 'refused_negative_id.pbtxt': 6}


def test_the_corpus_is_the_one_the_odapi_read():
    files = sorted(f for f in os.listdir(CORPUS) if f.endswith('.pbtxt'))
    assert files == sorted(READINGS) and len(files) >= 20
    assert sum('error' in r for r in READINGS.values()) >= 5


@pytest.mark.parametrize('name', sorted(n for n, r in READINGS.items() if 'names' in r))
def test_reads_what_the_odapi_reads(name):
    expected = {int(k): v for k, v in READINGS[name]['names'].items()}
    assert parse_label_map(os.path.join(CORPUS, name)) == expected


@pytest.mark.parametrize('name', sorted(n for n, r in READINGS.items() if 'error' in r))
def test_refuses_what_the_odapi_refuses(name):
    path = os.path.join(CORPUS, name)
    with pytest.raises(UserError) as info:
        read_label_map(path)
    message = str(info.value)
    assert path in message and '\n' not in message
    if name in REFUSED_LINE:
        assert 'line {}:'.format(REFUSED_LINE[name]) in message
    elif 'latin1' not in name:  # protobuf's parse errors carry line and column
        assert ' line ' in message and ' column ' in message


def test_duplicate_ids_keep_the_first_and_are_reported():
    read = read_label_map(os.path.join(CORPUS, 'duplicate_ids.pbtxt'))
    assert read.names == {1: 'person', 2: 'cat'} and read.duplicates == {2: (5, 9)}
    assert 'lines 5, 9' in read.notes() and "'cat'" in read.notes()


def test_empty_names_are_named_after_their_id(tmp_path):
    """The one deviation: the OD API would name these ''."""
    path = tmp_path / 'map.pbtxt'
    path.write_text('item { id: 3 }\nitem { id: 4 name: "x" display_name: "" }\n')
    assert parse_label_map(str(path)) == {3: 'unnamed_id_3', 4: 'unnamed_id_4'}


def test_no_item_and_missing_file(tmp_path):
    path = tmp_path / 'empty.pbtxt'
    path.write_text('# nothing\n')
    with pytest.raises(UserError, match='has no item'):
        parse_label_map(str(path))
    with pytest.raises(UserError, match='cannot read label map'):
        parse_label_map(str(tmp_path / 'absent.pbtxt'))


def test_item_lines_skip_strings_comments_and_nesting():
    text = ('# item {\nitem {\n name: "item {"\n keypoints { label: \'item\' }\n}\n\n'
            'item: < id: 2 >\n')
    assert item_lines(text) == [2, 7]


def test_shipped_coco_label_map_has_90_ids_80_names():
    names = parse_label_map(COCO_LABEL_MAP)
    assert len(names) == 80 and min(names) == 1 and max(names) == 90
    assert names[1] == 'person' and names[90] == 'toothbrush' and 12 not in names
