"""Writing one Caffe SSD parity run: ``<stem>.csv``, ``.md``, ``.meta.json``,
with the columns, verdicts and settings table of :mod:`replicate.parity.report`."""
import json
import os

import pandas as pd

from provenance.stamp import provenance_markdown
from provenance.tables import frame_to_markdown, write_table
from replicate.parity import metrics
from replicate.parity import report as parity_report

TITLE = ("# Caffe SSD parity: our Chainer build vs OpenCV's DNN on the same prototxt and "
         'caffemodel, layer by layer')
METHOD = (
    'How it is measured: both sides read the same two files. Ours is '
    '`replicate.caffe.load` (the network built from the prototxt with replicate\'s layers, '
    'weights read by our protobuf reader), the reference `cv2.dnn.readNetFromCaffe`. Both get '
    'the same input (our preprocessing is checked against `cv2.dnn.blobFromImages` in the '
    '`input` row). Layer rows (named by the layer, its first top for the whole batch) compare '
    'our network against OpenCV run with layer fusion and Winograd convolutions off, so that '
    'every layer has its own output and OpenCV convolves directly, as Caffe does: `layer:` '
    'rows run each of our layers alone on OpenCV\'s input of that layer (the error of the '
    'layer itself), the other layer rows our whole network on the shared input, where '
    'rounding differences compound from layer to layer. `default/` rows and the detections '
    'compare against OpenCV with its default settings (fused layers, Winograd), the detector '
    'as the harness\'s `opencv-dnn` kind runs it. Detections are in Caffe\'s order (by class, '
    'then by descending score; OpenCV sorts by score over all classes and is regrouped by a '
    'stable sort); `nms_on_reference` runs our DetectionOutput on OpenCV\'s own loc, conf and '
    'prior blobs, the decoding and NMS alone.')
DIFFERENCES = (
    'Known differences between Caffe (which ours follows) and OpenCV, none of which the '
    'committed models exercise beyond rounding: Caffe computes prior-box corners in double '
    'precision and truncates min_size/max_size to integers, OpenCV computes in float32 and '
    'keeps fractions (equal here up to 1 float32 ulp, because the sizes are integers; an '
    'SSD512 prototxt with min_size 35.84 gets different priors in OpenCV); OpenCV ignores '
    'nms_param.eta, uses confidence threshold 0 when none is given (Caffe: none), and its '
    'PriorBox defaults clip to true (Caffe: false).')


def worst_by_type(frame, types):
    """Markdown table: the largest scaled_err per layer type (layer rows), and of
    the `default/`, `detections` and `nms_on_reference` rows."""
    def kind(name):
        if name.startswith('layer:'):
            return types.get(name[len('layer:'):], '?') + ' (alone)'
        return types.get(name) or name.split('/')[0].split('[')[0]
    kinds = frame['name'].map(kind)
    lines = ['| rows | count | worst scaled_err | at |', '| --- | --- | --- | --- |']
    for kind in sorted(set(kinds)):
        rows = frame[kinds == kind]
        worst = rows.loc[rows['scaled_err'].fillna(float('inf')).idxmax()]
        lines.append('| {} | {} | {:.3g} | `{}` |'.format(kind, len(rows), worst['scaled_err'],
                                                          worst['name']))
    return '\n'.join(lines) + '\n'


def markdown(frame, info, settings, provenance, note, types, columns):
    return '\n'.join([
        TITLE, '', parity_report.verdict_sentence(info, settings['rtol']), '', note, '',
        METHOD, '', DIFFERENCES, '', columns, '',
        '## Worst scaled error per layer type', '', worst_by_type(frame, types),
        '## Settings', '', provenance_markdown(settings),
        '## Provenance', '', provenance_markdown(provenance),
        '## Outputs (execution order)', '', frame_to_markdown(frame)])


def write_report(rows, stem, settings, provenance, note, types):
    """Write the three files; returns :func:`replicate.parity.report.summary`.

    Args:
        types (dict): layer name -> layer type (for the per-type table).
    """
    frame = write_table(pd.DataFrame(rows, columns=list(metrics.COLUMNS)), stem)
    info = parity_report.summary(rows)
    columns = parity_report.columns_sentence(os.path.dirname(os.path.abspath(stem)))
    with open(stem + '.md', 'w') as f:
        f.write(markdown(frame, info, settings, provenance, note, types, columns))
    meta = {'provenance': provenance, 'settings': settings, 'summary': info,
            'tolerance_note': note, 'method': METHOD, 'differences': DIFFERENCES}
    with open(stem + '.meta.json', 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True, default=str)
        f.write('\n')
    return info
