"""THE parity test: ``replicate.SSD300`` vs ChainerCV's SSD300 on the CPU with
the same seeded random weights, side by side in this process: every layer and
the final detections identical, bit for bit (the same arithmetic in the same
order), whatever the machine's BLAS kernel.

One image (batch 1) keeps it to two model runs; the layer list still covers
the whole network, which the coverage assertions below check against
ChainerCV's own list of links.
"""
import json
import os

import numpy as np
import pandas as pd
import pytest

from replicate.parity import cli, models
from replicate.tolerances import PARITY_CPU


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp('parity_ours')
    code = cli.main(['--batch', '1', '--out', str(out)])
    rows = pd.read_csv(out / 'cpu_random.csv', keep_default_na=False)
    return code, rows, out


def test_every_layer_identical(report):
    code, rows, _ = report
    bad = rows[rows['verdict'] != 'exact']
    assert bad.empty, bad[['name', 'scaled_err', 'note']].to_string()
    assert code == 0
    assert (rows['scaled_err'].astype(float) == 0).all()
    assert (rows['scaled_err'].astype(float) <= PARITY_CPU).all()  # the report's own bound


def test_layer_list_covers_the_whole_network(report):
    names = set(report[1]['name'])
    reference = models.build_reference(20)
    links = [p.strip('/') for p, link in reference.namedlinks(skipself=True)
             if not any(True for _ in link.children())]
    assert len(links) == 36  # 23 convolutions + norm4 + 12 head convolutions
    assert set(links) <= names
    convs = [p for p in links if '/conv' in p and not p.startswith('multibox')]
    assert {p + '>relu' for p in convs} <= names
    assert sum('>maxpooling' in n for n in names) == 5
    assert {'extractor[{}]'.format(i) for i in range(6)} <= names
    assert {'input', 'mb_locs', 'mb_confs', 'predict/input'} <= names
    assert {'decode[0]/' + k for k in ('bbox', 'label', 'score')} <= names


def test_detections_identical_and_not_trivial(report):
    rows = report[1].set_index('name')
    for key in ('bbox', 'label', 'score'):
        assert rows.loc['predict[0]/' + key, 'verdict'] == 'exact'
    n_boxes = int(rows.loc['predict[0]/score', 'shape'])
    assert n_boxes > 10  # a comparison of empty detections would prove nothing


def test_report_files(report):
    _, rows, out = report
    meta = json.load(open(os.path.join(out, 'cpu_random.meta.json')))
    assert meta['summary'] == {
        'verdict': 'PASS', 'first_diverging': None, 'rows': len(rows),
        'counts': {'exact': int(np.sum(rows['verdict'] == 'exact')),
                   'within tolerance': int(np.sum(rows['verdict'] == 'within tolerance')),
                   'DIVERGES': 0}}
    assert meta['settings']['resize_backend'] == 'cv2'
    md = open(os.path.join(out, 'cpu_random.md')).read()
    assert md.index('## Provenance') < md.index('## Layers')
