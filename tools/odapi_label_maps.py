"""Read every label map of tests/fixtures/label_maps/ with the TF Object
Detection API's own code, and record what it made of each, so the project's
reader (compare/adapters/label_map.py) is tested against the OD API itself.

For each ``*.pbtxt`` (sorted), ``label_map_util.create_category_index_from_labelmap
(path, use_display_name=True)`` (what the OD API's evaluation and
visualization use) gives ``{id: name}``, or the exception it raises. First,
``written_by_protobuf.pbtxt`` is (re)written by protobuf's own text writer
(``text_format.MessageToString``) from a StringIntLabelMap with non-ASCII
names, so the corpus holds the escapes that writer really emits.

Runs ONLY in the OD API environment of make_odapi_export.sh
(PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python); writes
tests/fixtures/label_maps/odapi_reads.json.

Usage: python tools/odapi_label_maps.py [FOLDER]
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FOLDER = os.path.join(HERE, '..', 'tests', 'fixtures', 'label_maps')
#: (id, name, display_name or None) of the map protobuf's writer writes.
WRITTEN = ((1, 'caf\u00e9', 'Caf\u00e9'), (2, 'stra\u00dfe', None), (3, '\u65e5\u672c', None))


def write_with_protobuf(path):
    """Write WRITTEN with protobuf's text writer (octal escapes, its default)."""
    from google.protobuf import text_format
    from object_detection.protos import string_int_label_map_pb2
    label_map = string_int_label_map_pb2.StringIntLabelMap()
    for item_id, name, display_name in WRITTEN:
        item = label_map.item.add(id=item_id, name=name)
        if display_name is not None:
            item.display_name = display_name
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text_format.MessageToString(label_map))


def odapi_reading(path):
    """``{'names': {id: name}}`` or ``{'error': 'Type: message'}``."""
    from object_detection.utils import label_map_util
    try:
        index = label_map_util.create_category_index_from_labelmap(
            path, use_display_name=True)
    except Exception as exc:  # anything the OD API raises is its refusal
        return {'error': '{}: {}'.format(type(exc).__name__, ' '.join(str(exc).split())[:200])}
    return {'names': {str(k): v['name'] for k, v in sorted(index.items())}}


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    folder = args[0] if args else DEFAULT_FOLDER
    write_with_protobuf(os.path.join(folder, 'written_by_protobuf.pbtxt'))
    readings = {os.path.basename(path): odapi_reading(path)
                for path in sorted(glob.glob(os.path.join(folder, '*.pbtxt')))}
    from importlib.metadata import version
    packages = ('tensorflow', 'protobuf', 'tf-models-research-object-detection')
    result = {'made_by': 'tools/odapi_label_maps.py',
              'versions': {name: version(name) for name in packages},
              'readings': readings}
    with open(os.path.join(folder, 'odapi_reads.json'), 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write('\n')
    print('{} label maps read: {} refused'.format(
        len(readings), sum('error' in r for r in readings.values())))


if __name__ == '__main__':
    main()
