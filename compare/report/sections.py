"""What the reports say, once: the sections both summary.md and report.html render.

:func:`sections` turns a :class:`compare.score.scorer.Scored` and its
:class:`compare.report.gallery.Gallery` into a list of :class:`Section`
(title, notes, tables, figures). :mod:`compare.report.markdown` and
:mod:`compare.report.html` only render them, so the two files carry the
same facts; summary.md links the charts, report.html embeds every figure.
Notes use two inline forms, `code` and **bold**.
"""
import dataclasses
import json

import pandas as pd

from compare.images import NOT_AN_IMAGE
from compare.paths import display_path
from compare.score.diagnosis import confusion_matrix
from compare.score.speed import NOISY_RATIO

SPEED_SHOWN = ('detector', 'batch_size', 'repeats', 'preprocess_p50_ms_per_image',
               'inference_p50_ms_per_image', 'postprocess_p50_ms_per_image',
               'total_p50_ms_per_image', 'total_p90_ms_per_image', 'images_per_s',
               'p90_over_p50', 'load_avg_max', 'cpu_count', 'peak_rss_mib', 'noisy', 'device',
               'threads')
#: Thresholds of the sweep shown in the text (all of them: sweep.csv).
SWEEP_SHOWN = (0.1, 0.3, 0.5, 0.7, 0.9)
#: Worst images listed per detector (and as many best ones).
WORST = 3

MATCHING_RULE = (
    'Detections with score >= the operating point ({thresh:g}) are matched within one image '
    'and one canonical class (VOC and COCO spellings joined, see classes.csv), greedily by '
    'IoU (highest first; ties by smallest score difference, then rank), a pair needing IoU '
    '>= 0.5. IoU has no +1 pixel term. Only images both processed and classes both can name '
    'are compared; `unshared_*` counts detections of classes the other detector cannot name. '
    '`agreement` = matched / (matched + only_a + only_b).')

MAP_CONVENTIONS = (
    '`map_voc07`: PASCAL VOC2007 11-point AP; `map_voc`: VOC area under the PR curve (both '
    'ChainerCV `eval_detection_voc`); `map_coco`: COCO AP@[.5:.95] and `ap50_coco`: COCO '
    'AP50 (both pycocotools COCOeval). How the ground truth of each was read and its boxes '
    'compared (pixel shift, +1 in IoU and areas, matching rule) is in "Conventions of these '
    'numbers" below: the default box convention is ChainerCV\'s; `--box-convention odapi` '
    'gives the TF OD API evaluators\' readings, which differ on the same detections. Every '
    'detection a detector kept counts (its own threshold, not the operating point). A '
    'detector is scored only on the annotation classes it can name: the others are excluded '
    'from its mean (`classes_excluded`); its detections of classes the annotation lacks are '
    'dropped (`detections_dropped`). `images_unannotated`: images it processed that have no '
    'annotation, left out of its mAP.')

DECODING_NOTE = (
    'Every image is decoded once, with PIL (EXIF orientation applied), and each detector gets '
    'those pixels, except where its `pixels` column says TF: that TF detector had TensorFlow '
    'decode the JPEG/PNG file itself, as the OD API\'s own pipelines do (`decode=tf`; the '
    'default for exports that take encoded images and decode them inside the model, as in '
    'production). TensorFlow\'s and PIL\'s JPEG decoders differ on the same file (by up to '
    '11 grey levels on the sample images), which moves detections a little. '
    '`own_postprocessing`: each detector\'s own score threshold and NMS, kept as it is; the '
    'comparisons below use the operating point on top of it.')

DIAGNOSIS_NOTE = (
    'At the operating point (score >= {thresh:g}), against the ground truth, by the PASCAL '
    'VOC rule behind `map_voc07` under the same box convention (IoU >= --iou, 0.5 unless set, '
    'highest score '
    'first, difficult boxes ignored): `tp`, `fp`, `fn`, precision, recall, F1. False positives by '
    'TIDE error type (IoU_fg 0.5, IoU_bg 0.1, tested in this order): `dupe` (a box of its '
    'class already taken), `cls` (IoU >= 0.5 with another class), `loc` (0.1 <= IoU < 0.5 '
    'with its class), `both` (0.1 <= IoU < 0.5 with another class), `bkg` (IoU < 0.1 with '
    'everything); `missed`: positives no true positive took and no `cls` or `loc` error '
    'targets. detections.csv has the verdict of every detection (`gt_match`, `error`, '
    '`iou`, the target box).')

METRIC_NAMES_NOTE = (
    'The same numbers under the names other tools give them: the TF OD API\'s metric keys '
    '(what its evaluators write to TensorBoard) and pycocotools\' COCOeval.stats. The OD '
    'API\'s Pascal metric has no +1 pixel: it is map_voc under --box-convention odapi.')

TIDE_NOTE = (
    'TIDE (Bolya et al., ECCV 2020) as the tidecv package reports it, on every detection '
    'kept (at most 100 per image), not at the operating point: `ap` is TIDE\'s AP at IoU_fg '
    '(`iou`); `n_<type>` counts the errors of each type under TIDE\'s own rules and order '
    '(loc, cls, dupe, bkg, else both; miss: boxes nothing took or targets), which differ '
    'from the operating-point counts above; `dap_<type>` is the AP gained by fixing every '
    'error of that type alone; `dap_fp` / `dap_fn`: all false positives scored 0 / every '
    'missed box removed. Fractions (tidecv prints x100). docs/scoring.md has the rules.')

CONFUSION_NOTE = (
    'Rows: the ground-truth class (or background); columns: the predicted class (or '
    'background), at the operating point. (g, p): detections of p on a box of g at '
    'IoU >= 0.5 (true positives on the diagonal); (background, p): the other false '
    'positives of p; (g, background): boxes of g no detection found. confusion.csv holds '
    'the cells of every detector.')

SWEEP_NOTE = (
    'Precision, recall and F1 (same rule as above) against the score threshold: the '
    'operating point a detector would need. All 20 thresholds: sweep.csv.')

GRID_NOTE = (
    'The Chainer SSDs decoded again from their kept network outputs (`--keep-raw`), no '
    'network run: NMS IoU threshold x score threshold, as detections per image and mAP '
    '(ChainerCV, VOC). `native`: the setting of the run. Re-decode the whole report with '
    '`python -m compare.score RUN --nms-thresh N --decode-score-thresh S`.')

SPEED_NOTE = (
    'Milliseconds. Each detector is timed on the same first readable image(s) of the folder '
    '(one batch of each batch size, images repeated to fill it): `repeats` timed calls after '
    'the untimed warm-up, so p50/p90 are over those repeats. `noisy` says why a row is not '
    'to be trusted: p90/p50 above {ratio} or a 1-minute load average above the core count '
    'while it ran (`load_avg_max`). `peak_rss_mib`: the process\'s peak resident memory '
    'during the detector\'s calls (every loaded detector included). Timings are reused '
    'from an earlier run into the same folder when the detector is the same (weights, '
    'preset, device, threads, repeats, warm-up); `--force` retimes.')


@dataclasses.dataclass
class Section:
    """One section of the reports.

    Attributes:
        title: heading.
        notes: paragraphs (inline `code` and **bold**).
        tables: list of ``(caption or '', DataFrame)``.
        figures: list of ``(caption, path relative to the run folder)``.
        markdown_figures: whether summary.md links the figures too; when not,
            it says that the pictures are in report.html.
        html_notes: paragraphs of report.html only (about its pictures).
        lines: plain lines shown as a list.
        findings: the headline's sentences
            (:class:`compare.score.findings.Finding`), shown as a list with
            the sentences under each nested.
    """
    title: str
    notes: list = dataclasses.field(default_factory=list)
    tables: list = dataclasses.field(default_factory=list)
    figures: list = dataclasses.field(default_factory=list)
    markdown_figures: bool = True
    lines: list = dataclasses.field(default_factory=list)
    anchor: str = ''
    html_notes: list = dataclasses.field(default_factory=list)
    findings: list = dataclasses.field(default_factory=list)


def banners(run):
    """Loud warnings, each a list of lines: an unfinished run, the detectors
    with random weights (one line: the headline names them), failed detectors."""
    found = []
    if run.meta.state != 'complete':
        found.append(['⚠ RUN {}: meta.json says the run did not finish; tables cover the '
                      'images done so far'.format(run.meta.state.upper())])
    random = [name for name, entry in run.detectors.items() if entry.random_weights]
    if random:
        found.append(['⚠ RANDOM WEIGHTS: {} of the {} detectors hold untrained weights (named '
                      'in the headline): their detections and mAP measure nothing'.format(
                          len(random), len(run.detectors))])
    found += [['⚠ FAILED: {}: {}'.format(name, entry.status)]
              for name, entry in run.detectors.items() if entry.status != 'ok']
    return found


def provenance_rows(run):
    """The run's provenance (meta.json) as ``{str: str}``, sorted by key."""
    return {str(k): str(v) for k, v in sorted(run.meta.provenance.items())}


def native_thresholds(entry):
    """A detector's own post-processing, in words."""
    info = entry.info or {}
    if info.get('common_nms'):
        return info['common_nms']
    if 'score_thresh' in info:
        return 'preset {}: score >= {}, NMS IoU {}'.format(info.get('preset'),
                                                           info.get('score_thresh'),
                                                           info.get('nms_thresh'))
    if 'iou_threshold' in info:   # read from an OD API pipeline.config
        return 'pipeline.config: score >= {}, NMS IoU {}, {} per class, {} in all'.format(
            info['score_threshold'], info['iou_threshold'], info['max_detections_per_class'],
            info['max_total_detections'])
    return info.get('postprocess', "the model's own (exported)")


def scored_thresholds(entry, redecoded):
    """The post-processing of the detections scored: the detector's own, or,
    when scoring re-decoded them (``redecoded``: ``(NMS IoU, score
    threshold)``), those settings with the run's own beside them."""
    if redecoded is None:
        return native_thresholds(entry)
    return 're-decoded when scored: score >= {}, NMS IoU {} (the run: {})'.format(
        redecoded[1], redecoded[0], native_thresholds(entry))


def detectors_frame(run, score_thresh):
    """One row per detector: status, weights, where it ran, its own thresholds,
    how much it produced."""
    rows = []
    for name in run.run_order():
        entry = run.detectors[name]
        mine = run.detections[run.detections['detector'] == name]
        rows.append({'detector': name, 'status': entry.status, 'weights': str(entry.weights),
                     'weights_sha256': str(entry.weights_sha256 or '-')[:16],
                     'random_weights': bool(entry.random_weights),
                     'pixels': str((entry.info or {}).get('pixels', 'PIL')),
                     'own_postprocessing': scored_thresholds(entry, run.redecoded.get(name)),
                     'device': str(entry.device), 'threads': str(entry.threads),
                     'images': int((run.images['detector'] == name).sum()),
                     'detections': len(mine),
                     'detections_at_thresh': int((mine['score'] >= score_thresh).sum())})
    return pd.DataFrame(rows)


def inputs_line(scored):
    """Images folder, annotations (relative to the cwd when inside it) and skip counts."""
    reasons = [str(reason) for reason in scored.run.skipped['reason']]
    not_images = sum(reason.startswith(NOT_AN_IMAGE) for reason in reasons)
    return ('Images folder: `{}`; annotations: `{}`; unreadable images skipped: {}; '
            'files ignored as not images (by suffix): {}; operating point: score >= {:g}.'
            .format(display_path(scored.images_dir), display_path(scored.annotations),
                    len(reasons) - not_images, not_images, scored.score_thresh))


def noisy_note(speed):
    """One bold line when some timings are noisy, else nothing."""
    noisy = speed[speed['noisy'] != ''] if not speed.empty else speed
    if noisy.empty:
        return []
    return ['**Noisy timings in {} of {} rows** (column `noisy`; load average up to {:.2f} on '
            '{} cores, p90/p50 up to {:.2f}): rerun on a quiet machine before comparing these '
            'times.'.format(len(noisy), len(speed), noisy['load_avg_max'].max(),
                            noisy['cpu_count'].max(), noisy['p90_over_p50'].max())]


def best_and_worst(per_image, order, count=WORST):
    """Per detector (in ``order``), its ``count`` images with most errors
    (fp + fn) and, of the others, its ``count`` with fewest; ties by image
    name. Cells read ``image (errors)``."""
    if per_image is None or per_image.empty:
        return per_image
    rows = []
    for name in [n for n in order if n in set(per_image['detector'])]:
        mine = per_image[per_image['detector'] == name]
        worst = mine.sort_values(['errors', 'image'], ascending=[False, True],
                                 kind='mergesort').head(count)
        rest = mine[~mine['image'].isin(set(worst['image']))]
        best = rest.sort_values(['errors', 'image'], kind='mergesort').head(count)

        def cells(frame):
            return '; '.join('{} ({})'.format(r.image, int(r.errors))
                             for r in frame.itertuples())
        rows.append({'detector': name, 'worst (errors = fp + fn)': cells(worst),
                     'best': cells(best) or '-'})
    return pd.DataFrame(rows)


def agreement_matrix(summary, order):
    """The agreement of every pair at the operating point as a square table:
    row ``k. name``, column ``k``; ``n/a`` where the two share no class,
    ``-`` where neither has a detection to compare."""
    names = [n for n in order if n in set(summary['detector_a']) | set(summary['detector_b'])]
    cells = {}
    for row in summary.itertuples():
        text = ('n/a' if row.shared_classes == 0 else '-' if row.agreement != row.agreement
                else '{:.3f}'.format(row.agreement))
        cells[(row.detector_a, row.detector_b)] = cells[(row.detector_b, row.detector_a)] = text
    rows = []
    for k, name in enumerate(names, 1):
        row = {'detector': '{}. {}'.format(k, name)}
        for j, other in enumerate(names, 1):
            row[str(j)] = '·' if other == name else cells.get((name, other), '')
        rows.append(row)
    return pd.DataFrame(rows, columns=['detector'] + [str(j) for j in range(1, len(names) + 1)])


def _sweep_shown(sweep):
    keep = sweep['score_thresh'].round(2).isin(SWEEP_SHOWN)
    return sweep[keep].reset_index(drop=True)


def _figures(gallery, kind):
    return [(caption, path) for caption, path in gallery.figures.get(kind, [])]


def accuracy_sections(scored, gallery):
    tables, thresh = scored.tables, scored.score_thresh
    if 'map_summary' not in tables:
        return [Section('Accuracy (mAP)', ['No annotations: no mAP, no error analysis.'])]
    found = [Section('Accuracy (mAP)', [MAP_CONVENTIONS],
                     [('', tables['map_summary']),
                      ('COCO summary (COCOeval.stats of the evaluator in map_conventions; '
                       '-1: no ground truth of that size; OD API and pycocotools names below)',
                       tables['coco_summary'])],
                     _figures(gallery, 'speed_accuracy'), anchor='accuracy'),
             Section('Conventions of these numbers', [],
                     [('', tables.get('map_conventions'))]),
             Section('The names other tools give these numbers', [METRIC_NAMES_NOTE],
                     [('', tables.get('metric_names'))]),
             Section('AP per class', [], [('', tables['map_per_class'])],
                     _figures(gallery, 'pr'))]
    diagnosis = Section('Errors against the ground truth', [DIAGNOSIS_NOTE.format(
        thresh=thresh)], [('', tables['diagnosis']),
                          ('Worst and best images per detector (errors = fp + fn at the '
                           'operating point), {} of each; all: diagnosis_per_image.csv'.format(
                               WORST),
                           best_and_worst(tables['diagnosis_per_image'],
                                          scored.run.run_order()))],
        _figures(gallery, 'errors'), anchor='errors')
    tide = Section('TIDE: the AP each error type costs', [TIDE_NOTE],
                   [('', tables.get('tide'))], anchor='tide')
    confusion = Section('Confusion matrices', [CONFUSION_NOTE],
                        [(name, confusion_matrix(tables['confusion'].to_dict('records'), name)
                          .reset_index())
                         for name in scored.run.run_order()
                         if name in set(tables['confusion']['detector'])],
                        _figures(gallery, 'confusion'))
    sweep = Section('Score threshold sweep', [SWEEP_NOTE], [('', _sweep_shown(tables['sweep']))],
                    _figures(gallery, 'sweep'))
    return found + [diagnosis, tide, confusion, sweep]


def sections(scored, gallery):
    """Every section, in order."""
    run, tables, thresh = scored.run, scored.tables, scored.score_thresh
    found = [Section('Headline', [], findings=scored.findings, anchor='headline'),
             Section('What ran', [inputs_line(scored), DECODING_NOTE],
                     [('', detectors_frame(run, thresh))])]
    summary = tables['agreement_summary']
    found.append(Section('Agreement between detectors', [MATCHING_RULE.format(thresh=thresh)],
                         [('Agreement of every pair at the operating point (matched / '
                           '(matched + only_a + only_b)); all counts: agreement_summary.csv, '
                           'per class: agreement_per_class.csv', agreement_matrix(
                               summary, run.run_order())),
                          ('The pairs of the headline', tables.get('pairs'))],
                         _figures(gallery, 'disagreement'), markdown_figures=False,
                         anchor='agreement'))
    found += accuracy_sections(scored, gallery)
    if 'decode_grid' in tables:
        found.append(Section('NMS and score thresholds of the Chainer SSDs', [GRID_NOTE],
                             [('', tables['decode_grid'])], _figures(gallery, 'grid')))
    speed = tables['speed']
    found.append(Section('Speed (milliseconds)', [SPEED_NOTE.format(ratio=NOISY_RATIO)] +
                         noisy_note(speed),
                         [('', speed[[c for c in SPEED_SHOWN if c in speed.columns]])],
                         anchor='speed'))
    found.append(Section('Detections drawn', ['Ground truth dashed in white; detections '
                                              'green when true positives, red when false '
                                              'positives, class colours without ground truth '
                                              '(score >= the operating point).'] + gallery.notes,
                         [], _figures(gallery, 'overlays'), markdown_figures=False,
                         html_notes=['Click a picture to enlarge it.']))
    found.append(Section('Skipped files', [], [('', run.skipped)]))
    found.append(Section('Warnings', [], [('', tables['score_warnings'])]))
    found.append(Section('Provenance (meta.json)', [], [('', pd.DataFrame(
        list(provenance_rows(run).items()), columns=['key', 'value']))]))
    found.append(Section('Run arguments', ['`{}`'.format(json.dumps(run.meta.args,
                                                                    sort_keys=True))]))
    return found
