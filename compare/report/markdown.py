"""summary.md: what ran, loud banners, the tables a person reads first.

Sections are built by small functions returning lists of lines; the HTML page
(:mod:`compare.report.html`) reuses the same texts (banners, conventions).
Nothing here depends on the clock: the only date is the run's own provenance
from meta.json, so re-scoring a run gives the same file.
"""
import json

import pandas as pd

from compare.images import NOT_AN_IMAGE
from compare.paths import display_path
from reporting.provenance import provenance_markdown
from reporting.tables import frame_to_markdown

SPEED_SHOWN = ('detector', 'batch_size', 'repeats', 'preprocess_p50_per_image_s',
               'inference_p50_per_image_s', 'postprocess_p50_per_image_s',
               'total_p50_per_image_s', 'total_p90_per_image_s', 'images_per_s', 'device',
               'threads')

MATCHING_RULE = (
    'Detections are matched within one image and one canonical class (VOC and COCO '
    'spellings joined, see classes.csv), greedily by IoU (highest first; ties by smallest '
    'score difference, then rank), a pair needing IoU >= 0.5. IoU has no +1 pixel term. '
    'Only images both processed and classes both can name are compared; `unshared_*` '
    'counts detections of classes the other detector cannot name. No common score threshold '
    'is applied: each detector keeps its own (e.g. the Chainer SSDs\' preset, the TF '
    'export\'s built-in one), so two detectors with different thresholds disagree on the '
    'low-score detections only one of them keeps (see the `detections` column of "What ran").')

MAP_CONVENTIONS = (
    '`map_voc07`: PASCAL VOC2007 11-point AP; `map_voc`: VOC area under the PR curve (both '
    'ChainerCV `eval_detection_voc`); `map_coco`: COCO AP@[.5:.95] and `ap50_coco`: COCO '
    'AP50 (both pycocotools COCOeval). How the ground truth of each was read and its boxes '
    'compared (pixel shift, +1 in IoU and areas, matching rule) is in "Conventions of these '
    'numbers" below: the default box convention is ChainerCV\'s; `--box-convention odapi` '
    'gives the TF OD API evaluators\' readings, which differ on the same detections. A '
    'detector is scored only on the annotation classes it can name: the others are excluded '
    'from its mean (`classes_excluded`); its detections of classes the annotation lacks are '
    'dropped (`detections_dropped`).')

DECODING_NOTE = (
    'Every image is decoded once, with PIL (EXIF orientation applied), and each detector gets '
    'those pixels, except where its `pixels` column says TF: that TF detector had TensorFlow '
    'decode the JPEG/PNG file itself, as the OD API\'s own pipelines do (`decode=tf`; the '
    'default for exports that take encoded images and decode them inside the model, as in '
    'production). TensorFlow\'s and PIL\'s JPEG decoders differ on the same file (by up to '
    '11 grey levels on the sample images), which moves detections a little.')

SPEED_NOTE = (
    'Each detector is timed on the same first readable image(s) of the folder (one batch '
    'of each batch size, images repeated to fill it): `repeats` timed calls after the '
    'untimed warm-up, so p50/p90 are over those repeats, not over the whole folder. '
    'Full percentiles per batch and per image: speed.csv.')


def banners(run):
    """Loud one-line warnings: an unfinished run, random weights, failed detectors."""
    lines = []
    if run.meta.state != 'complete':
        lines.append('⚠ RUN {}: meta.json says the run did not finish; tables cover the '
                     'images done so far'.format(run.meta.state.upper()))
    for name, entry in run.detectors.items():
        if entry.random_weights:
            lines.append('⚠ RANDOM WEIGHTS: detections and mAP from {} are meaningless, the '
                         'run only exercises the pipeline (weights: {})'.format(
                             name, entry.weights))
        if entry.status != 'ok':
            lines.append('⚠ FAILED: {}: {}'.format(name, entry.status))
    return lines


def provenance_rows(run):
    """The run's provenance (meta.json) as ``{str: str}``, sorted by key."""
    return {str(k): str(v) for k, v in sorted(run.meta.provenance.items())}


def detectors_frame(run):
    """One row per detector: status, weights, where it ran, how much it produced."""
    rows = []
    for name, entry in run.detectors.items():
        images = run.images[run.images['detector'] == name]
        rows.append({'detector': name, 'status': entry.status, 'weights': str(entry.weights),
                     'weights_sha256': str(entry.weights_sha256 or '-')[:16],
                     'random_weights': bool(entry.random_weights),
                     'pixels': str((entry.info or {}).get('pixels', 'PIL')),
                     'device': str(entry.device), 'threads': str(entry.threads),
                     'images': len(images),
                     'detections': int((run.detections['detector'] == name).sum())})
    return pd.DataFrame(rows)


def _section(title, frame, text=None, columns=None):
    lines = ['', '## ' + title, '']
    if text:
        lines += [text, '']
    if frame is None or frame.empty:
        return lines + ['(none)']
    shown = frame[[c for c in columns if c in frame.columns]] if columns else frame
    return lines + [frame_to_markdown(shown).rstrip('\n')]


def inputs_line(scored):
    """Images folder, annotations (relative to the cwd when inside it) and skip counts."""
    reasons = [str(reason) for reason in scored.run.skipped['reason']]
    not_images = sum(reason.startswith(NOT_AN_IMAGE) for reason in reasons)
    return ('Images folder: `{}`; annotations: `{}`; unreadable images skipped: {}; '
            'files ignored as not images (by suffix): {}.'.format(
                display_path(scored.images_dir), display_path(scored.annotations),
                len(reasons) - not_images, not_images))


def summary_markdown(scored, gallery):
    """The text of summary.md."""
    run, tables = scored.run, scored.tables
    lines = ['# Detector comparison: {}'.format(run.run_dir.rstrip('/').split('/')[-1]), '']
    lines += ['> **{}**'.format(text) for text in banners(run)]
    lines += ['', inputs_line(scored)]
    lines += _section('What ran', detectors_frame(run), DECODING_NOTE)
    lines += _section('Agreement between detectors', tables['agreement_summary'],
                      MATCHING_RULE)
    lines += _section('Speed (seconds per image, p50 unless named)', tables['speed'],
                      SPEED_NOTE, SPEED_SHOWN)
    if 'map_summary' in tables:
        lines += _section('Accuracy (mAP)', tables['map_summary'], MAP_CONVENTIONS)
        lines += _section('Conventions of these numbers', tables.get('map_conventions'))
        lines += _section('AP per class', tables['map_per_class'])
    else:
        lines += ['', '## Accuracy (mAP)', '', 'No annotations: no mAP.']
    lines += _section('Skipped files', run.skipped)
    lines += _section('Warnings', tables['score_warnings'])
    lines += ['', '## Figures', ''] + ['- ' + note for note in gallery.notes]
    lines += ['- report.html shows the tables and figures/*.png.']
    lines += ['', '## Provenance (meta.json)', '',
              provenance_markdown(provenance_rows(run)).rstrip('\n')]
    lines += ['', 'Arguments: `{}`'.format(json.dumps(run.meta.args, sort_keys=True))]
    return '\n'.join(lines) + '\n'
