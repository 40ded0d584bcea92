"""Shared by the shard and MPI tests: a small images folder with annotations,
the options of a cheap run, and the comparison of two run folders' tables."""
import json
import os

import numpy as np
import pandas as pd
from PIL import Image
from test_score_fakerun import write_coco_json

#: Two fake detectors (no model), timed once: a run takes well under a second.
DETECTORS = ['-d', 'fake:1,count=4', '-d', 'fake:2,count=3,name=other']
OPTIONS = DETECTORS + ['--repeats', '1', '--warmup', '0', '--no-progress']
#: Tables made of timings: compared only for their rows, not their values.
TIMING_TABLES = ('speed.csv',)
#: Tables whose text quotes timings (the headline's sentences): compared for
#: their rows and topics.
TIMING_TEXT = ('findings.csv',)
#: Columns of other tables that hold timings.
TIMING_COLUMNS = ('p50_ms_per_image_b1',)


def make_images(root, count=9):
    """``root/images``: ``count`` PNGs of different sizes in two folders, a
    corrupt JPEG, a text file and a COCO ``annotations.json`` over the PNGs
    (classes of the fake detector), so the merged run has skipped files and
    mAP tables. Returns the folder."""
    folder = os.path.join(str(root), 'images')
    rng = np.random.RandomState(0)
    sizes, objects = {}, []
    for i in range(count):
        name = ('a/im{:02d}.png' if i % 3 else 'b/im{:02d}.png').format(i)
        sizes[name] = (20 + i, 28 + 2 * i)
        os.makedirs(os.path.join(folder, os.path.dirname(name)), exist_ok=True)
        Image.fromarray(rng.randint(0, 255, sizes[name] + (3,), np.uint8)).save(
            os.path.join(folder, name))
        objects.append((name, ('cat', 'dog', 'person')[i % 3], [2.0, 3.0, 12.0, 10.0], 0))
    with open(os.path.join(folder, 'a', 'broken.jpg'), 'wb') as f:
        f.write(b'not a jpeg')
    with open(os.path.join(folder, 'notes.txt'), 'w') as f:
        f.write('not an image')
    write_coco_json(os.path.join(folder, 'annotations.json'), sizes, objects,
                    ['cat', 'dog', 'person'])
    return folder


def tables(run_dir):
    """``{file name: DataFrame}`` of every scored CSV, timing values blanked."""
    found = {}
    for name in sorted(os.listdir(run_dir)):
        if not name.endswith('.csv'):
            continue
        frame = pd.read_csv(os.path.join(run_dir, name), keep_default_na=False)
        if name in TIMING_TABLES:
            frame = frame[['detector', 'batch_size', 'repeats', 'cpu_count', 'device', 'threads']]
        if name in TIMING_TEXT:
            frame = frame.drop(columns=['text'])
        frame = frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame.columns])
        found[name] = frame
    return found


def records(run_dir, detector):
    """The records of ``raw/<detector>.jsonl`` without their times, in file order."""
    with open(os.path.join(run_dir, 'raw', detector + '.jsonl')) as f:
        rows = [json.loads(line) for line in f]
    for row in rows:
        row.pop('times')
    return rows


def assert_same_run(single, merged):
    """The merged folder holds what the single run holds: every table (timings
    aside), every record (with its image's sha256), each detector's
    identity file, the skipped files, and meta.json's images and detectors
    (counts, statuses, loaded flags, identities)."""
    one, other = tables(single), tables(merged)
    assert sorted(one) == sorted(other)
    assert {'map_summary.csv', 'detections.csv', 'agreement_summary.csv'} <= set(one)
    for name in one:
        pd.testing.assert_frame_equal(one[name], other[name], obj=name)
    for detector in ('fake', 'other'):
        assert records(single, detector) == records(merged, detector)
        assert all(len(row['sha256']) == 64 for row in records(merged, detector))
        identity = [json.load(open(os.path.join(d, 'raw', detector + '.identity.json')))
                    for d in (single, merged)]
        assert identity[0] == identity[1] and identity[0]['name'] == detector
    with open(os.path.join(single, 'raw', 'skipped.csv')) as a, \
            open(os.path.join(merged, 'raw', 'skipped.csv')) as b:
        assert a.read() == b.read()
    meta_a, meta_b = (json.load(open(os.path.join(d, 'meta.json'))) for d in (single, merged))
    assert meta_a['images']['listed'] == meta_b['images']['listed']
    assert meta_a['images']['not_images'] == meta_b['images']['not_images']
    assert meta_a['detectors'] == meta_b['detectors']
    assert meta_b['state'] == 'complete'
