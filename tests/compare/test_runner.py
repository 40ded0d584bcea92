"""compare.runner.loop: per-image loop, resume without lost or duplicated rows,
--force, failing detectors, unreadable images (fake detectors only)."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from compare import rundir
from compare.adapters import build
from compare.errors import UserError
from compare.images import load_image
from compare.runner import benchmark, loop, resume


def make_images(folder, count=6):
    folder.mkdir(exist_ok=True)
    rng = np.random.RandomState(0)
    names = []
    for i in range(count):
        name = 'img{:02d}.png'.format(i)
        Image.fromarray(rng.randint(0, 255, (20 + i, 30, 3), np.uint8)).save(folder / name)
        names.append(name)
    return names


class Interrupting:
    """Wraps an adapter; raises ``error`` on the predict call number ``after``."""

    def __init__(self, adapter, after, error):
        self.adapter, self.after, self.error, self.calls = adapter, after, error, 0
        self.name = adapter.name

    def load(self):
        self.adapter.load()

    def predict(self, images):
        self.calls += 1
        if self.calls > self.after:
            raise self.error
        return self.adapter.predict(images)

    def info(self):
        return self.adapter.info()


def records(run_dir, name):
    with open(os.path.join(run_dir, 'raw', name + '.jsonl')) as f:
        return [json.loads(line) for line in f]


def run(adapters, folder, images, run_dir, force=False):
    statuses = loop.load_adapters(adapters, run_dir, log=lambda message: None)
    done = resume.prepare(run_dir, adapters, statuses, str(folder), images, force,
                          log=lambda message: None)
    counts = loop.run_images(adapters, str(folder), images, run_dir, statuses, done,
                               progress=False)
    return statuses, counts


def test_every_image_gets_one_record(tmp_path):
    images = make_images(tmp_path / 'images')
    raw = str(tmp_path / 'raw')
    statuses, counts = run([build('fake:1'), build('fake:2,name=f2')], tmp_path / 'images',
                           images, raw)
    assert statuses == {'fake': 'ok', 'f2': 'ok'}
    assert counts['new'] == {'fake': 6, 'f2': 6} and counts['unreadable'] == []
    rows = records(raw, 'fake')
    assert [r['image'] for r in rows] == images
    assert [(r['height'], r['width']) for r in rows] == [(20 + i, 30) for i in range(6)]
    assert set(rows[0]['times']) == {'preprocess', 'inference', 'postprocess'}


def test_resume_after_interruption_loses_and_duplicates_nothing(tmp_path):
    images = make_images(tmp_path / 'images')
    clean_raw, raw = str(tmp_path / 'clean'), str(tmp_path / 'raw')
    run([build('fake:3')], tmp_path / 'images', images, clean_raw)
    with pytest.raises(KeyboardInterrupt):
        run([Interrupting(build('fake:3'), 4, KeyboardInterrupt())], tmp_path / 'images',
            images, raw)
    assert len(records(raw, 'fake')) == 4
    again = build('fake:3')
    _, counts = run([again], tmp_path / 'images', images, raw)
    assert counts['new'] == {'fake': 2} and counts['done'] == {'fake': 6}
    resumed = records(raw, 'fake')
    assert [r['image'] for r in resumed] == images
    strip = lambda rows: [dict(r, times=None) for r in rows]  # noqa: E731 (times vary)
    assert strip(resumed) == strip(records(clean_raw, 'fake'))


def test_partial_last_line_is_dropped_and_redone(tmp_path):
    images = make_images(tmp_path / 'images', 3)
    raw = str(tmp_path / 'raw')
    with pytest.raises(KeyboardInterrupt):
        run([Interrupting(build('fake:0'), 2, KeyboardInterrupt())], tmp_path / 'images',
            images, raw)
    with open(os.path.join(raw, 'raw', 'fake.jsonl'), 'a') as f:
        f.write('{"image": "img02.png", "detections": [{"y_mi')  # killed mid-write
    _, counts = run([build('fake:0')], tmp_path / 'images', images, raw)
    assert counts['new'] == {'fake': 1}
    assert [r['image'] for r in records(raw, 'fake')] == images


@pytest.mark.parametrize('text, words', [
    ('not json\n', 'line 1 is not a record of this harness.*--force'),
    ('{"image": "img00.png"}\n', 'line 1 is not a record of this harness.*--force'),
])
def test_corrupt_line_is_a_user_error(tmp_path, text, words):
    images = make_images(tmp_path / 'images', 2)
    run_dir = tmp_path / 'run'
    run([build('fake:0')], tmp_path / 'images', images, str(run_dir))
    (run_dir / 'raw' / 'fake.jsonl').write_text(text + '{"image": "img01.png"}\n')
    with pytest.raises(UserError, match=words):
        run([build('fake:0')], tmp_path / 'images', images, str(run_dir))
    run([build('fake:0')], tmp_path / 'images', images, str(run_dir), force=True)
    assert len(records(str(run_dir), 'fake')) == 2


def test_an_image_twice_is_a_user_error(tmp_path):
    """The reading rule scoring follows too (test_score_fakerun)."""
    images = make_images(tmp_path / 'images', 2)
    run_dir = str(tmp_path / 'run')
    run([build('fake:0')], tmp_path / 'images', images[:1], run_dir)
    path = os.path.join(run_dir, 'raw', 'fake.jsonl')
    line = open(path).read()
    with open(path, 'a') as f:
        f.write(line)
    with pytest.raises(UserError, match='line 2 repeats image img00.png'):
        run([build('fake:0')], tmp_path / 'images', images, run_dir)


def test_force_redoes_everything_once(tmp_path):
    images = make_images(tmp_path / 'images', 3)
    raw = str(tmp_path / 'raw')
    run([build('fake:0')], tmp_path / 'images', images, raw)
    _, counts = run([build('fake:0')], tmp_path / 'images', images, raw)
    assert counts['new'] == {'fake': 0}
    _, counts = run([build('fake:0')], tmp_path / 'images', images, raw, force=True)
    assert counts['new'] == {'fake': 3}
    assert [r['image'] for r in records(raw, 'fake')] == images


def test_failing_detectors_do_not_stop_the_others(tmp_path):
    images = make_images(tmp_path / 'images', 4)
    raw = str(tmp_path / 'raw')
    broken = Interrupting(build('fake:0,name=broken'), 2, RuntimeError('kaboom'))
    statuses, counts = run([build('fake:0,fail=no weights'), broken, build('fake:1,name=good')],
                           tmp_path / 'images', images, raw)
    assert statuses['fake'] == 'failed: fake detector asked to fail: no weights'
    assert statuses['broken'].startswith('failed: on img02.png: RuntimeError: kaboom')
    assert 'kaboom' in open(os.path.join(raw, 'raw', 'broken.error.txt')).read()
    assert statuses['good'] == 'ok' and counts['new']['good'] == 4
    assert len(records(raw, 'broken')) == 2


def test_unreadable_images_are_skipped_with_reason(tmp_path):
    images = make_images(tmp_path / 'images', 2)
    (tmp_path / 'images' / 'broken.jpg').write_bytes(b'\xff\xd8 not really')
    raw = str(tmp_path / 'raw')
    _, counts = run([build('fake:0')], tmp_path / 'images', ['broken.jpg'] + images, raw)
    assert [image for image, _ in counts['unreadable']] == ['broken.jpg']
    assert 'cannot read image' in counts['unreadable'][0][1]
    rundir.write_skipped(raw, counts['unreadable'] + [('a.txt', 'not an image file (suffix .txt)')])
    lines = open(os.path.join(raw, 'raw', 'skipped.csv')).read().splitlines()
    assert lines[0] == 'image,reason' and lines[1].startswith('a.txt,')
    assert lines[2].startswith('broken.jpg,') and len(lines) == 3
    assert [r['image'] for r in records(raw, 'fake')] == images


class Recording(Interrupting):
    """Wraps an adapter; records the type and file bytes of each image given."""

    def __init__(self, adapter, reads_files):
        super().__init__(adapter, after=10 ** 6, error=None)
        self.reads_files, self.seen = reads_files, []

    def predict(self, images):
        self.seen += [(type(image).__name__, getattr(image, 'encoded', None)) for image in images]
        return super().predict([np.asarray(image) for image in images])


def test_only_adapters_that_read_files_get_the_file_bytes(tmp_path):
    images = make_images(tmp_path / 'images', count=2)
    plain, reader = Recording(build('fake:0'), False), Recording(build('fake:1,name=r'), True)
    run([plain, reader], tmp_path / 'images', images, str(tmp_path / 'run'))
    assert plain.seen == [('ndarray', None)] * 2
    assert reader.seen == [('LoadedImage', (tmp_path / 'images' / name).read_bytes())
                           for name in images]
    rows = benchmark.benchmark(reader, [load_image(str(tmp_path / 'images' / images[0]))], (2,),
                               warmup=0, repeats=1)
    assert len(rows) == 4 and reader.seen[-1][0] == 'LoadedImage'
    benchmark.benchmark(plain, [load_image(str(tmp_path / 'images' / images[0]))], (1,),
                        warmup=0, repeats=1)
    assert plain.seen[-1] == ('ndarray', None)
