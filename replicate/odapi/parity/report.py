"""Writing one OD API parity run: ``<stem>.csv``, ``.md``, ``.meta.json``, with
the columns, verdict and settings table of :mod:`replicate.parity.report`."""
import json
import os

import pandas as pd

from provenance.stamp import provenance_markdown
from provenance.tables import frame_to_markdown, write_table
from replicate.parity import metrics
from replicate.parity import report as parity_report

#: Rows of each layer run alone on TF's input of that layer.
LOCAL_PREFIX = 'layer:'
TITLE = ('# SSD-MobileNetV2 parity: our Chainer port vs the OD API export in TensorFlow, '
         'layer by layer')
METHOD = (
    'How the TF tensors were obtained: the export\'s SavedModel signature `serving_default` '
    'is frozen (variables to constants, nested calls inlined) and run in a TF session on each '
    'raw uint8 image; each layer\'s output is fetched from the export\'s own graph under the '
    'Keras layer\'s name (the op of the layer\'s scope whose output leaves it), so nothing on '
    'the TF side is rebuilt. `layer:` rows run each of our layers on TF\'s input of that layer '
    '(the tensors entering the layer\'s scope); the other network rows run our whole model on '
    'TF\'s preprocessed batch (the input of `Conv1`), so they measure the network alone; '
    '`preprocess[i]` compares our own resize and normalization, and `predict[i]/*` our whole '
    '`predict` on the raw image. TF arrays are NHWC and are transposed to NCHW.')


def report_stem(out_dir, export_dir, device):
    """``<out>/odapi_<export folder name>_<cpu|gpu>`` (a leading ``odapi_`` of
    the folder name is not repeated)."""
    name = os.path.basename(os.path.normpath(export_dir))
    if name.startswith('odapi_'):
        name = name[len('odapi_'):]
    return os.path.join(out_dir, 'odapi_{}_{}'.format(name, 'gpu' if 'cupy' in device
                                                      else 'cpu'))


def worst_errors(frame):
    """One sentence: the largest scaled_err of the layer rows, of the
    end-to-end network rows, and of the final detections."""
    names = frame['name']
    groups = (('each layer on TF\'s input', names.str.startswith(LOCAL_PREFIX)),
              ('end to end', ~names.str.startswith(LOCAL_PREFIX) &
               ~names.str.contains(r'^(?:anchors|preprocess|decoded|scores|detections|predict)')),
              ('final detections', names.str.contains(r'^(?:detections|predict)\[')))
    parts = []
    for label, mask in groups:
        rows = frame[mask]
        if len(rows):
            worst = rows.loc[rows['scaled_err'].idxmax()]
            parts.append('{} {:.3g} (`{}`)'.format(label, worst['scaled_err'], worst['name']))
    return 'Largest scaled_err: ' + '; '.join(parts) + '.'


def markdown(frame, info, settings, provenance, note, unmatched, columns=None, title=TITLE,
             method=METHOD):
    """The whole ``.md`` text; ``columns``: where the columns are explained
    (:func:`replicate.parity.report.columns_sentence` of the report's folder;
    default: that of reports/parity); ``title``, ``method``: of a TF1
    frozen graph's report (:mod:`replicate.odapi.parity.frozen_run`)."""
    columns = columns or parity_report.columns_sentence(
        os.path.join(parity_report.REPOSITORY, 'reports', 'parity'))
    skipped = ', '.join('`{}`'.format(n) for n in unmatched) or 'none'
    return '\n'.join([
        title, '', parity_report.verdict_sentence(info, settings['rtol']), '',
        worst_errors(frame), '', note, '',
        method, '', 'Recorded outputs of ours with no TF tensor to compare (not rows): ' +
        skipped + '.', '', columns, '',
        '## Settings', '', provenance_markdown(settings),
        '## Provenance', '', provenance_markdown(provenance),
        '## Outputs (execution order)', '', frame_to_markdown(frame)])


def write_report(rows, stem, settings, provenance, note, unmatched, title=TITLE,
                 method=METHOD):
    """Write the three files; returns :func:`replicate.parity.report.summary`."""
    frame = write_table(pd.DataFrame(rows, columns=list(metrics.COLUMNS)), stem)
    info = parity_report.summary(rows)
    with open(stem + '.md', 'w') as f:
        f.write(markdown(frame, info, settings, provenance, note, unmatched,
                         parity_report.columns_sentence(os.path.dirname(os.path.abspath(stem))),
                         title, method))
    meta = {'provenance': provenance, 'settings': settings, 'summary': info,
            'tolerance_note': note, 'not_compared': list(unmatched), 'method': method}
    with open(stem + '.meta.json', 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True, default=str)
        f.write('\n')
    return info
