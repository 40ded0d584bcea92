"""A run folder as COCO files: results per detector, and the ground truth.

What is written into ``OUT`` (a folder; :func:`export`):

- ``<detector>.results.json`` for each detector that ran: a COCO results
  list ``[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]``,
  every detection kept (no score threshold, as the mAP uses them), on the
  annotated images, ordered by image id then rank; boxes are the run's
  ``(y_min, x_min, y_max, x_max)`` pixels as ``[x_min, y_min, x_max - x_min,
  y_max - y_min]`` (float64 of the saved float32: reading them back gives the
  same float32). A detection's class is matched to a ground-truth category
  by canonical name (:mod:`compare.score.classes`); detections of classes the
  ground truth does not define, or on images it does not annotate, are left
  out and counted (as the mAP leaves them out).
- ``ground_truth.json`` when the ground truth is VOC XML: images (id 1..N in
  the order of the run's image paths, ``file_name`` = that path, height and
  width as the run recorded them), categories (id 1..C in the order of the
  annotation's sorted class names) and annotations: the boxes as scoring
  read them (under ``--box-convention``: ``chainercv`` subtracts 1 px from VOC's
  1-based pixels, ``odapi`` keeps them), clipped to the image, ``area`` the
  box's ``w * h``, ``iscrowd`` = VOC ``difficult``. With COCO ground truth
  the ids are the annotation file's own and no ground truth is written: the
  results open against that file.

- ``detectors.json``: per detector exported, its results file, the ids of
  the categories it can detect (``category_ids``: the ground truth's that
  its vocabulary names) and ``read_back``, the ``-d`` spec that reads it
  back as a detector (``file:...,images=...``, absolute paths, with
  ``classes=`` where it detects fewer classes than the ground truth
  defines; null, with ``why_not``, where no spec can say it), so the comparison
  of the read-back run gives the run's tables. pycocotools gives the run's
  ``coco_summary`` when its ``params.catIds`` are those ``category_ids``
  (the run scores each detector on the classes it can detect; pycocotools
  by default averages over every category of the ground truth).

``OUT`` ending in ``.json`` names the results file of the one detector to
export (``--detector`` or a run with one detector); the ground truth then goes
beside it as ``ground_truth.json``, and ``detectors.json`` is not written (the
read-back spec is printed).
"""
import json
import os

from compare.adapters.coco_results import CLASS_SEPARATOR
from compare.errors import UserError
from compare.score import conventions
from compare.score.attach import attach
from compare.score.classes import canonical
from compare.score.ground_truth import (
    annotation_format,
    find_annotations,
    load_annotations,
    read_coco_index,
)
from compare.score.inputs import read_run

GROUND_TRUTH = 'ground_truth.json'
SUFFIX = '.results.json'
DETECTORS = 'detectors.json'


def _annotations(run, annotations):
    if annotations is None:
        images_dir = run.meta.images_dir(run.run_dir)
        annotations = find_annotations(images_dir) if os.path.isdir(images_dir) else None
    if annotations is None or annotations == 'none':
        raise UserError('no annotations for {}: COCO results need the ground truth\'s image '
                        'and category ids; pass --annotations (VOC folder or COCO JSON)'.format(
                            run.run_dir))
    return annotations


def _xywh(y_min, x_min, y_max, x_max):
    """``(y_min, x_min, y_max, x_max)`` -> COCO ``[x, y, w, h]`` (python floats)."""
    y_min, x_min, y_max, x_max = (float(v) for v in (y_min, x_min, y_max, x_max))
    return [x_min, y_min, x_max - x_min, y_max - y_min]


def voc_ground_truth(truths, vocabulary, sizes):
    """``(dataset, image ids, category ids)`` of VOC ground truth already read
    and attached: ``{run image: id}`` and ``{canonical class: id}``."""
    image_ids = {image: k + 1 for k, image in enumerate(sorted(truths))}
    category_ids = {}
    categories = []
    for name in vocabulary:
        if canonical(name) not in category_ids:
            category_ids[canonical(name)] = len(categories) + 1
            categories.append({'id': len(categories) + 1, 'name': name})
    annotations = []
    for image in sorted(truths):
        truth = truths[image]
        for box, name, hard in zip(truth.boxes, truth.names, truth.difficult, strict=True):
            y0, x0, y1, x1 = (float(v) for v in box)
            annotations.append({'id': len(annotations) + 1, 'image_id': image_ids[image],
                                'category_id': category_ids[canonical(name)],
                                'bbox': [x0, y0, x1 - x0, y1 - y0], 'area': (x1 - x0) * (y1 - y0),
                                'iscrowd': int(hard)})
    images = [{'id': image_ids[image], 'file_name': image, 'height': sizes[image][0],
               'width': sizes[image][1]} for image in sorted(truths)]
    return ({'images': images, 'categories': categories, 'annotations': annotations},
            image_ids, category_ids)


def coco_ids(path, truths):
    """``(image ids, category ids)`` of COCO ground truth: ``{run image: id}``
    from the attached truths, ``{canonical class: id}`` from the file."""
    _, categories = read_coco_index(path)
    category_ids = {}
    for cat_id, name in categories.items():
        category_ids.setdefault(canonical(name), cat_id)
    return {image: truth.image_id for image, truth in truths.items()}, category_ids


def results(run, detector, image_ids, category_ids):
    """``(results list, left out)`` of one detector."""
    rows = run.detections[run.detections['detector'] == detector]
    found, left_out = [], 0
    for image, rank, cls, score, *box in zip(rows['image'], rows['rank'], rows['class'],
                                             rows['score'], rows['y_min'], rows['x_min'],
                                             rows['y_max'], rows['x_max'], strict=True):
        cat = category_ids.get(cls)
        if image not in image_ids or cat is None:
            left_out += 1
            continue
        found.append(((str(type(image_ids[image])), image_ids[image], int(rank)),
                      {'image_id': image_ids[image], 'category_id': cat,
                       'bbox': _xywh(*box), 'score': float(score)}))
    found.sort(key=lambda item: item[0])
    return [entry for _, entry in found], left_out


def _write(path, value):
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        json.dump(value, f)
        f.write('\n')
    return path


def export(run_dir, out, annotations=None, box_convention=None, detectors=None, log=print):
    """Write the COCO files of ``run_dir`` (see module doc); returns their paths.

    Raises:
        UserError: no annotations, an unknown detector, or ``OUT.json`` for
            more than one detector.
    """
    run = read_run(run_dir)
    path = _annotations(run, annotations)
    convention = conventions.get(box_convention)
    truths, vocabulary = load_annotations(path, convention.voc_gt_shift)
    sizes = run.sizes()
    truths, warnings = attach(truths, sizes)
    for line in warnings:
        log('note: ' + line)
    names = run.ok_detectors()
    chosen = list(detectors) if detectors else names
    unknown = [name for name in chosen if name not in names]
    if unknown:
        raise UserError('detector {} did not run in {}; it has {}'.format(
            ', '.join(unknown), run_dir, ', '.join(names) or 'none'))
    single = out.lower().endswith('.json')
    if single and len(chosen) != 1:
        raise UserError('{} names one results file but {} detectors would be exported ({}); '
                        'pass --detector NAME or an output folder'.format(
                            out, len(chosen), ', '.join(chosen)))
    folder = os.path.dirname(os.path.abspath(out)) if single else out
    os.makedirs(folder, exist_ok=True)
    written = []
    if annotation_format(path) == 'voc':
        dataset, image_ids, category_ids = voc_ground_truth(truths, vocabulary, sizes)
        written.append(_write(os.path.join(folder, GROUND_TRUTH), dataset))
    else:
        image_ids, category_ids = coco_ids(path, truths)
    images_file = os.path.join(folder, GROUND_TRUTH) if annotation_format(path) == 'voc' \
        else path
    spelled = _category_names(images_file, {cat: name for name, cat in category_ids.items()})
    listed = {}
    for name in chosen:
        found, left_out = results(run, name, image_ids, category_ids)
        target = out if single else os.path.join(folder, name + SUFFIX)
        written.append(_write(target, found))
        if left_out:
            log('note: {}: {} detections left out (classes the ground truth does not define, '
                'or images it does not annotate)'.format(name, left_out))
        listed[name] = read_back(name, target, images_file, run.label_names(name),
                                 category_ids, spelled)
        if listed[name]['read_back'] is None:
            log('note: {}: {}'.format(name, listed[name]['why_not']))
    if single and listed[chosen[0]]['read_back']:
        log('read back with: -d ' + listed[chosen[0]]['read_back'])
    else:
        written.append(_write(os.path.join(folder, DETECTORS), listed))
    return written


def _category_names(images_file, fallback):
    """``{category id: name as the images file spells it}``."""
    if os.path.exists(images_file) and annotation_format(images_file) == 'coco':
        return read_coco_index(images_file)[1]
    return fallback


def read_back(name, results_path, images_file, vocabulary, category_ids, spelled):
    """The entry of ``detectors.json`` for one detector (see module doc):
    ``read_back`` is None, and ``why_not`` says why, where no spec can say
    it (no class in common with the ground truth; a ``,`` in a path, or a
    ``,`` or ``+`` in a class name, which the spec syntax uses)."""
    mine = sorted({category_ids[canonical(n)] for n in vocabulary
                   if canonical(n) in category_ids}, key=lambda cat: (str(type(cat)), cat))
    entry = {'results': os.path.basename(results_path), 'category_ids': mine,
             'read_back': None}
    paths = [os.path.abspath(p) for p in (results_path, images_file)]
    names = [spelled[cat] for cat in mine]
    if not mine:
        entry['why_not'] = 'no class in common with the ground truth: nothing to read back'
    elif any(',' in p for p in paths) or any(
            ',' in n or CLASS_SEPARATOR in n or n != n.strip() for n in names):
        entry['why_not'] = ('a path with "," or a class name with "," or "{}" cannot be '
                            'written as a -d spec'.format(CLASS_SEPARATOR))
    else:
        spec = 'file:{},images={}'.format(*paths)
        if set(mine) != set(category_ids.values()):
            spec += ',classes=' + CLASS_SEPARATOR.join(names)
        entry['read_back'] = spec + ',name=' + name
    return entry
