"""Files a user points us at are untrusted (issue 7, class "no code runs from a
file"): label maps, annotation XML and JSON, TF model zoo archives, TF weights.

Weight files (.npz) have their own module (tests/test_untrusted_npz.py) and
every loader in the sources is checked by tests/test_untrusted_sources.py.
Each case here is a real file; each refusal is one line naming the file, and
nothing is written outside the cache or run.
"""
import io
import json
import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from compare import limits
from compare.adapters import label_map, tf_zoo
from compare.errors import UserError
from compare.run import main as run_compare
from compare.score.ground_truth import load_annotations

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures')
REAL_FROZEN = os.path.join(FIXTURES, 'odapi_frozen', 'frozen_inference_graph.pb')


def one_line(info, *fragments):
    message = str(info.value)
    assert '\n' not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- label maps -----------------------------------------------------------------------------

@pytest.mark.parametrize('content, words', [
    (b'item { id: 1 name: "\xff\xfe" }\n', 'is not UTF-8 text (byte 0xff at offset 20)'),
    (b'item { id: ' + b'9' * 5000 + b' name: "a" }\n', "Couldn't parse integer"),
    (b'item { id: 1 name: "a" ' * 3, 'has no field named "item"'),
    (b'\x00\x01garbage', 'Expected identifier or number'),
    (b'item { id: 1 name: "a', 'String missing ending quote'),
])
def test_a_broken_label_map_is_one_line(tmp_path, content, words):
    path = tmp_path / 'labels.pbtxt'
    path.write_bytes(content)
    with pytest.raises(UserError) as info:
        label_map.parse_label_map(str(path))
    one_line(info, str(path), words)


def test_a_label_map_over_the_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(label_map, 'MAX_LABEL_MAP_BYTES', 64)
    path = tmp_path / 'labels.pbtxt'
    path.write_text('item { id: 1 name: "a" }\n' * 10)
    with pytest.raises(UserError) as info:
        label_map.parse_label_map(str(path))
    one_line(info, str(path), 'larger than')


def test_a_pipeline_config_nested_too_deeply_is_one_line(tmp_path):
    from replicate.odapi import textproto
    from replicate.odapi.errors import ConfigError
    path = tmp_path / 'pipeline.config'
    path.write_text('a {' * 100000 + '}' * 100000)
    with pytest.raises(ConfigError) as info:
        textproto.read(str(path))
    one_line(info, '{}: messages nested too deeply'.format(path))


# -- annotations ------------------------------------------------------------------------------

def test_entities_and_deep_nesting_are_refused(tmp_path):
    laughs = tmp_path / 'laughs.xml'
    laughs.write_text('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                      '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><annotation><object><name>&b;'
                      '</name></object></annotation>')
    external = tmp_path / 'external.xml'
    external.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM '
                        '"file:///etc/passwd">]><annotation><filename>&x;</filename>'
                        '</annotation>')
    for path in (laughs, external):
        with pytest.raises(UserError) as info:
            load_annotations(str(path))
        one_line(info, 'refused unsafe XML in ' + str(path))
    deep = tmp_path / 'deep.json'
    deep.write_text('[' * 100000 + ']' * 100000)
    with pytest.raises(UserError) as info:
        load_annotations(str(deep))
    one_line(info, 'malformed COCO JSON ' + str(deep), 'RecursionError')
    nested = tmp_path / 'deep.xml'  # expat does not recurse: an annotation without objects
    nested.write_text('<annotation>' + '<a>' * 100000 + '</a>' * 100000 + '</annotation>')
    (truth,), vocabulary = load_annotations(str(nested))
    assert truth.boxes.shape == (0, 4) and vocabulary == ()


def test_annotation_files_over_the_limits_are_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr('compare.score.ground_truth.MAX_XML_BYTES', 1000)
    monkeypatch.setattr('compare.score.ground_truth.MAX_OBJECTS_PER_IMAGE', 5)
    obj = ('<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>'
           '<ymax>5</ymax></bndbox></object>')
    big = tmp_path / 'big.xml'
    big.write_text('<annotation>' + obj * 20 + '</annotation>')
    with pytest.raises(UserError) as info:
        load_annotations(str(big))
    one_line(info, str(big), 'larger than 0 MiB (the limit)')
    many = tmp_path / 'many.xml'
    many.write_text('<annotation>' + obj * 6 + '</annotation>')
    with pytest.raises(UserError) as info:
        load_annotations(str(many))
    one_line(info, str(many), '6 objects, more than the limit of 5 per image')
    coco = tmp_path / 'many.json'
    coco.write_text(json.dumps({
        'images': [{'id': 1, 'file_name': 'a.png'}], 'categories': [{'id': 1, 'name': 'cat'}],
        'annotations': [{'image_id': 1, 'category_id': 1, 'bbox': [0, 0, 1, 1]}] * 6}))
    with pytest.raises(UserError) as info:
        load_annotations(str(coco))
    one_line(info, str(coco), 'more than the limit of 5 objects')


def test_an_unsafe_file_beside_the_images_does_not_stop_the_run(tmp_path, capsys):
    images = tmp_path / 'images'
    images.mkdir()
    Image.fromarray(np.full((8, 8, 3), 40, np.uint8)).save(images / 'a.png')
    (images / 'a.xml').write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM '
                                  '"file:///etc/passwd">]><annotation/>')
    out = tmp_path / 'out'
    assert run_compare([str(images), '-d', 'fake', '-d', 'fake:1,name=b', '--out', str(out),
                     '--no-progress', '--repeats', '1', '--warmup', '0']) == 0
    err = capsys.readouterr().err
    assert 'not scored: mAP: the annotations found beside the images cannot be used: refused ' \
           'unsafe XML in {}'.format(images / 'a.xml') in err
    assert (out / 'agreement_summary.csv').exists() and (out / 'speed.csv').exists()
    assert not (out / 'map_summary.csv').exists()


# -- TF model zoo archives --------------------------------------------------------------------

def _archive(folder, members):
    """``folder/evil.tar.gz`` from ``(name, kind, data or link)`` members."""
    with tarfile.open(os.path.join(folder, 'evil.tar.gz'), 'w:gz') as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                info.linkname = payload or ''
                tar.addfile(info)


GOOD = ('evil/saved_model/saved_model.pb', tarfile.REGTYPE, b'pb')


@pytest.mark.parametrize('member, words', [
    (('../outside.txt', tarfile.REGTYPE, b'x'), "member '../outside.txt' lies outside evil/"),
    (('/tmp/absolute.txt', tarfile.REGTYPE, b'x'), "member '/tmp/absolute.txt' lies outside "
                                                   'evil/'),
    (('other/x.txt', tarfile.REGTYPE, b'x'), "member 'other/x.txt' lies outside evil/"),
    (('evil/link', tarfile.SYMTYPE, '/etc/passwd'), "member 'evil/link' is a symbolic link"),
    (('evil/up', tarfile.SYMTYPE, '..'), "member 'evil/up' is a symbolic link"),
    (('evil/hard', tarfile.LNKTYPE, '/etc/passwd'), "member 'evil/hard' is a hard link"),
    (('evil/fifo', tarfile.FIFOTYPE, None), "member 'evil/fifo' is a device or pipe"),
    (('evil/dev', tarfile.CHRTYPE, None), "member 'evil/dev' is a device or pipe"),
])
def test_an_archive_with_anything_but_files_under_its_folder_is_refused(tmp_path, member,
                                                                         words):
    cache = tmp_path / 'cache'
    cache.mkdir()
    _archive(str(cache), [GOOD, member, ('evil/up/planted.txt', tarfile.REGTYPE, b'x')])
    with pytest.raises(UserError) as info:
        tf_zoo.ensure_model('evil', str(cache))
    one_line(info, 'refused archive {}: {}; nothing was extracted'.format(
        cache / 'evil.tar.gz', words), 'delete it and fetch it again')
    assert sorted(os.listdir(cache)) == ['evil.tar.gz']  # nothing extracted, no staging left
    assert not (tmp_path / 'outside.txt').exists() and not os.path.exists('/tmp/absolute.txt')


def test_archive_bombs_are_refused_before_extraction(tmp_path, monkeypatch):
    cache = tmp_path / 'cache'
    cache.mkdir()
    monkeypatch.setattr(tf_zoo, 'MAX_ARCHIVE_MEMBERS', 5)
    _archive(str(cache), [GOOD] + [('evil/f{}'.format(i), tarfile.REGTYPE, b'') for i in range(5)])
    with pytest.raises(UserError) as info:
        tf_zoo.ensure_model('evil', str(cache))
    one_line(info, 'more than 5 members')
    monkeypatch.setattr(tf_zoo, 'MAX_ARCHIVE_BYTES', 1000)
    _archive(str(cache), [GOOD, ('evil/big', tarfile.REGTYPE, b'0' * 2000)])
    with pytest.raises(UserError) as info:
        tf_zoo.ensure_model('evil', str(cache))
    one_line(info, 'more than 0 MiB once extracted')
    assert sorted(os.listdir(cache)) == ['evil.tar.gz']


def test_a_truncated_archive_or_half_extracted_model_says_what_to_delete(tmp_path):
    cache = tmp_path / 'cache'
    cache.mkdir()
    _archive(str(cache), [('evil/saved_model/saved_model.pb', tarfile.REGTYPE,
                           np.random.RandomState(0).bytes(100000))])
    path = cache / 'evil.tar.gz'
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(UserError) as info:
        tf_zoo.ensure_model('evil', str(cache))
    one_line(info, 'cannot extract {}'.format(path), 'delete it and retry')
    (cache / 'evil').mkdir()
    with pytest.raises(UserError) as info:
        tf_zoo.ensure_model('evil', str(cache))
    one_line(info, '{} exists but holds no saved_model/saved_model.pb: delete it'.format(
        cache / 'evil'))


def test_a_refused_archive_fails_its_detector_only(tmp_path, capsys):
    cache, images = tmp_path / 'cache', tmp_path / 'images'
    cache.mkdir()
    images.mkdir()
    Image.fromarray(np.full((8, 8, 3), 40, np.uint8)).save(images / 'a.png')
    _archive(str(cache), [GOOD, ('evil/link', tarfile.SYMTYPE, '/etc/passwd')])
    code = run_compare([str(images), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir', str(cache),
                     '--out', str(tmp_path / 'out'), '--no-progress', '--no-speed',
                     '--no-score'])
    err = capsys.readouterr().err
    assert code == 3 and 'Traceback' not in err
    assert 'detector tfzoo-evil: failed: refused archive {}'.format(cache / 'evil.tar.gz') in err
    assert not (cache / 'evil').exists()


def test_limits_are_stated_in_the_help(capsys):
    with pytest.raises(SystemExit):
        run_compare(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert ' '.join(limits.help_text().split()) in text
    assert '--batch-sizes at most 8 sizes each <= 64' in text


# -- NaN or Inf in TF weights -----------------------------------------------------------------

@pytest.mark.tf
def test_nan_in_a_frozen_graph_fails_its_load(tmp_path):
    import tensorflow as tf

    from compare.adapters import build
    graph_def = tf.compat.v1.GraphDef()
    with open(REAL_FROZEN, 'rb') as f:
        graph_def.ParseFromString(f.read())
    node = next(n for n in graph_def.node if n.op == 'Const' and
                n.attr['dtype'].type == tf.float32.as_datatype_enum and
                tf.make_ndarray(n.attr['value'].tensor).size > 1)
    value = tf.make_ndarray(node.attr['value'].tensor).copy()
    value.flat[0] = np.inf
    node.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))
    path = tmp_path / 'frozen_inference_graph.pb'
    path.write_bytes(graph_def.SerializeToString())
    adapter = build('tf1:{},labels=coco'.format(path))
    with pytest.raises(UserError) as info:
        adapter.load()
    one_line(info, 'frozen graph {} has NaN or Inf in 1 constants: {}'.format(path, node.name))


@pytest.mark.tf
def test_nan_in_savedmodel_variables_fails_its_load(tmp_path):
    import tensorflow as tf

    from compare.adapters import tf_finite

    class Module(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([1.0, float('nan')], name='w')

        @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
        def serve(self, x):
            return {'y': x * self.w}
    module = Module()
    tf.saved_model.save(module, str(tmp_path / 'sm'))
    with pytest.raises(UserError) as info:
        tf_finite.check_saved_model(tf, str(tmp_path / 'sm'))
    one_line(info, 'SavedModel {} has NaN or Inf in 1 variables'.format(tmp_path / 'sm'))
    (tmp_path / 'sm' / 'variables' / 'variables.data-00000-of-00001').write_bytes(b'junk')
    with pytest.raises(UserError) as info:
        tf_finite.check_saved_model(tf, str(tmp_path / 'sm'))
    one_line(info, 'cannot read the variables of SavedModel')
