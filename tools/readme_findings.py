"""The findings table of README.md, written from the committed reports.

    python tools/readme_findings.py           # check: exit 1 with a diff when README.md is stale
    python tools/readme_findings.py --write   # rewrite the table between its two markers

Every number in the table is read here from the report its row links to, so
the README cannot say something the reports do not: ``tox -e sample`` and
``tox -e parity`` end with ``--write``, and ``tests/test_readme.py`` (in the
default test run) fails when the table differs from what this script writes.

Rows, in order (the first three are the suite's main findings):

1. our SSD300 vs ChainerCV's: ``reports/parity/cpu_random.meta.json`` (the
   verdict and counts) and the sample's ``ours``/``chainercv`` pair;
2. the trained Caffe SSD300 face detector, our Chainer build vs OpenCV's DNN:
   ``reports/parity/caffe_res10_ssd300_face_cpu.meta.json`` and the sample's
   ``caffe-res10-face``/``opencv-dnn-res10-face`` pair (AP for faces);
3. the trained TF1 OD API SSDLite person detector, our Chainer port vs
   TensorFlow: ``reports/parity/odapi_ssdlite_mobilenet_v2_person_cpu.meta.json``
   and the sample's ``ours-odapi-ssdlite-person``/``tf1-ssdlite-person`` pair;
4. speed: the sample's ``speed.csv`` (p50 ms per image at batch 1, with its
   noise flag) and ``reports/bench/cpu_targets.csv`` (targets met);
5. training: ``reports/train/benchmark.meta.json``.

Sample tables are read as written (``compare/rundir/precision.py``); bounds
are never written below the table's step. Standard library only.
"""
import argparse
import csv
import dataclasses
import difflib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = 'README.md'
BEGIN = '<!-- findings: written by tools/readme_findings.py from the reports each row links; ' \
        'do not edit by hand -->'
END = '<!-- end of findings -->'
SAMPLE = 'reports/sample'
#: The precision of the sample's tables (compare/rundir/precision.py): the
#: smallest bound a sentence may state.
STEP = {'pixels': 0.1, 'scores': 1e-4}


class Stale(Exception):
    """A report the table needs is missing or lacks a row; the message says which."""


@dataclasses.dataclass(frozen=True)
class PortRow:
    """A row about one implementation beside its reference."""
    question: str
    parity: str          # the parity report's stem under reports/parity/
    port: str            # the sample's detector names of the pair
    reference: str
    objects: str         # what the annotated class is called in the plural
    named: str           # the reference, in words


PORTS = (
    PortRow('Is our SSD300 the same computation as ChainerCV\'s SSD300?',
            'cpu_random', 'ours', 'chainercv', 'objects', 'ChainerCV'),
    PortRow('Does our Chainer build of OpenCV\'s trained Caffe SSD300 face detector compute '
            'what OpenCV\'s DNN module computes?',
            'caffe_res10_ssd300_face_cpu', 'caffe-res10-face', 'opencv-dnn-res10-face', 'faces',
            'OpenCV'),
    PortRow('Does our Chainer port of a trained TensorFlow Object Detection API SSDLite person '
            'detector compute what TensorFlow computes?',
            'odapi_ssdlite_mobilenet_v2_person_cpu', 'ours-odapi-ssdlite-person',
            'tf1-ssdlite-person', 'persons', 'TensorFlow'),
)
#: (what, the pair of detectors) of the speed row, as the sample names them.
SPEED_PAIRS = (('face SSD', 'opencv-dnn-res10-face', 'caffe-res10-face', "OpenCV's DNN"),
               ('SSDLite', 'tf1-ssdlite-person', 'ours-odapi-ssdlite-person', 'TensorFlow'),
               ('SSD300', 'chainercv', 'ours', 'ChainerCV'))


def _read_json(root, path):
    full = os.path.join(root, path)
    if not os.path.isfile(full):
        raise Stale('{} is missing: regenerate it (tox -e parity, tox -e sample)'.format(path))
    with open(full, encoding='utf-8') as f:
        return json.load(f)


def _read_csv(root, path):
    full = os.path.join(root, path)
    if not os.path.isfile(full):
        raise Stale('{} is missing: regenerate it (tox -e sample)'.format(path))
    with open(full, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def _one(rows, path, **key):
    found = [r for r in rows if all(r.get(k) == v for k, v in key.items())]
    if len(found) != 1:
        raise Stale('{} has {} rows for {}: regenerate it with tox -e sample'.format(
            path, len(found), key))
    return found[0]


def _link(text, path):
    return '[{}]({})'.format(text, path)


def _bound(value, kind):
    """A largest difference as a true bound at the table's precision."""
    step = STEP[kind]
    return '{:g}'.format(max(float(value or 0), step))


def spelled(value):
    """A tolerance as the reports write it: ``1e-05`` -> ``'1e-5'``."""
    mantissa, exponent = '{:e}'.format(value).split('e')
    return '{}e{}'.format(mantissa.rstrip('0').rstrip('.'), int(exponent))


def parity_words(meta):
    """The verdict of a parity report, in words."""
    summary, rtol = meta['summary'], meta['settings']['rtol']
    counts, rows = summary['counts'], summary['rows']
    if summary['verdict'] != 'PASS':
        return '**No**: {} of {} outputs diverge (first: `{}`)'.format(
            counts['DIVERGES'], rows, summary['first_diverging'])
    if counts['exact'] == rows:
        return ('**Yes, bit for bit**: all {} recorded outputs, layer by layer to the final '
                'detections, are identical'.format(rows))
    return ('**Yes, to float32 rounding**: all {} recorded outputs, layer by layer to the final '
            'detections, within {} of each output\'s largest value ({} of them '
            'identical)'.format(rows, spelled(rtol), counts['exact']))


def sample_words(root, row, parity_random=False):
    """What the sample run says of the pair: identical or how close, and the
    accuracy of each (or that the weights are random; ``parity_random``: the
    parity report's are too)."""
    pairs = _read_csv(root, SAMPLE + '/pairs.csv')
    pair = _one(pairs, SAMPLE + '/pairs.csv', detector_a=row.port, detector_b=row.reference)
    heads = _read_csv(root, SAMPLE + '/headline.csv')
    head = {name: _one(heads, SAMPLE + '/headline.csv', detector=name)
            for name in (row.port, row.reference)}
    images = pair['images']
    if pair['identical'] == 'True':
        said = 'on the {} sample photographs, {} of {} detections identical'.format(
            images, pair['detections_a'], pair['detections_b'])
    elif pair['only_a'] == pair['only_b'] == '0':
        said = ('on the {} sample photographs, the same {} detections at score >= {} (boxes '
                'within {} px, scores within {})'.format(
                    images, pair['matched'], head[row.port]['score_thresh'],
                    _bound(pair['max_box_diff'], 'pixels'),
                    _bound(pair['max_score_diff'], 'scores')))
    else:
        said = ('on the {} sample photographs, {} detections at score >= {} shared, {} and {} '
                'not'.format(images, pair['matched'], head[row.port]['score_thresh'],
                             pair['only_a'], pair['only_b']))
    if any(h['random_weights'] == 'True' for h in head.values()):
        return said + ('. {} seeded random weights (`{}`): ChainerCV\'s trained file cannot '
                       'be downloaded where this ran, so this row checks identity, not '
                       'accuracy'.format('Both use' if parity_random else 'The sample\'s pair uses',
                                         head[row.port]['weights']))
    per_class = _read_csv(root, SAMPLE + '/map_per_class.csv')
    mine = [r for r in per_class if r['detector'] in (row.port, row.reference) and
            r['predictable'] == 'True' and int(r['gt']) > 0]
    classes = sorted({r['class'] for r in mine})
    if len(classes) == 1:
        ap = {r['detector']: float(r['ap_voc07']) for r in mine}
        return said + '; AP for {} {:.3f} (ours) vs {:.3f} ({}), {} {} annotated'.format(
            row.objects, ap[row.port], ap[row.reference], row.named, mine[0]['gt'], row.objects)
    return said + '; mAP {:.3f} (ours) vs {:.3f} ({})'.format(
        float(head[row.port]['map_voc07']), float(head[row.reference]['map_voc07']), row.named)


def port_row(root, row):
    path = 'reports/parity/{}'.format(row.parity)
    meta = _read_json(root, path + '.meta.json')
    answer = '{}; {}.'.format(parity_words(meta), sample_words(
        root, row, meta['settings'].get('weights') == 'random'))
    return [row.question, answer, '{}, {}'.format(_link('parity report', path + '.md'),
                                                  _link('sample report',
                                                        SAMPLE + '/summary.md'))]


def speed_row(root):
    speed = _read_csv(root, SAMPLE + '/speed.csv')
    batch1 = {r['detector']: r for r in speed if r['batch_size'] == '1'}
    parts, noisy, cores = [], False, set()
    for what, reference, ours, name in SPEED_PAIRS:
        for detector in (reference, ours):
            if detector not in batch1:
                raise Stale('{}/speed.csv has no batch-1 row for {}: regenerate it with tox -e '
                            'sample'.format(SAMPLE, detector))
            noisy |= bool(batch1[detector]['noisy'])
            cores.add(batch1[detector]['cpu_count'])
        parts.append('{}: {} {:.0f}, ours {:.0f}'.format(
            what, name, float(batch1[reference]['total_p50_ms_per_image']),
            float(batch1[ours]['total_p50_ms_per_image'])))
    targets = _read_csv(root, 'reports/bench/cpu_targets.csv')
    met = sum(1 for t in targets if t['met'].strip().lower() == 'yes')
    answer = ('Milliseconds per image at batch 1 on {} CPU cores (median): {}{}. The SSD300 '
              'speed benchmark meets {} of its {} targets.'.format(
                  ' or '.join(sorted(cores)), '; '.join(parts),
                  ' (measured on a busy machine: the report marks these timings noisy)'
                  if noisy else '', met, len(targets)))
    return ['How fast are they?', answer, '{}, {}'.format(
        _link('sample speed', SAMPLE + '/speed.md'),
        _link('SSD300 benchmark', 'reports/bench/cpu_targets.md'))]


def training_row(root):
    meta = _read_json(root, 'reports/train/benchmark.meta.json')
    config = meta['config']
    iterations = config[config.index('--iterations') + 1]
    answer = ('**Yes**: a small SSD trained from scratch on generated shapes ({} iterations on '
              'the CPU) reaches VOC07 mAP {:.3f} on held-out images.'.format(
                  iterations, meta['map_voc07_test']))
    return ['Does our training code learn?', answer,
            _link('training report', 'reports/train/benchmark.md')]


def table(root=ROOT):
    """The findings table (Markdown lines, without the markers)."""
    rows = [port_row(root, row) for row in PORTS] + [speed_row(root), training_row(root)]
    lines = ['| | Question | Answer today | Backed by |', '| --- | --- | --- | --- |']
    lines += ['| {} | {} |'.format(k, ' | '.join(cells)) for k, cells in enumerate(rows, 1)]
    return lines


def split(text):
    """``(before, table lines, after)`` of README text; Stale without the markers."""
    lines = text.split('\n')
    if BEGIN not in lines or END not in lines:
        raise Stale('{} lacks the findings markers ({} ... {})'.format(README, BEGIN, END))
    start, stop = lines.index(BEGIN), lines.index(END)
    return lines[:start + 1], lines[start + 1:stop], lines[stop:]


def main(argv=None):
    parser = argparse.ArgumentParser(description='Check (or --write) the findings table of '
                                     'README.md against the committed reports.')
    parser.add_argument('--write', action='store_true', help='rewrite the table in README.md')
    parser.add_argument('--root', default=ROOT, help='the repository (default: this one)')
    args = parser.parse_args(argv)
    path = os.path.join(args.root, README)
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        before, old, after = split(text)
        new = table(args.root)
    except Stale as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return 2
    if args.write:
        if old != new:
            with open(path, 'w', encoding='utf-8') as f:
                f.write('\n'.join(before + new + after))
        print('{}: findings table {}'.format(README, 'rewritten' if old != new else 'unchanged'))
        return 0
    if old == new:
        print('{}: findings table matches the reports'.format(README))
        return 0
    sys.stdout.writelines(difflib.unified_diff([line + '\n' for line in old],
                                               [line + '\n' for line in new],
                                               README + ' (now)', 'from the reports'))
    print('{}: the findings table is stale: run python tools/readme_findings.py --write'.format(
        README))
    return 1


if __name__ == '__main__':
    sys.exit(main())
