"""Class names across vocabularies: VOC <-> COCO by one canonical name.

Detectors trained on different label sets are compared on the classes they
share. Two names denote the same class when their *canonical* forms are equal:

- lower case, ``_``/``-``/runs of white space folded to one space, stripped;
- then the aliases below, which send COCO's spelling to VOC's
  (``airplane`` -> ``aeroplane``, ``couch`` -> ``sofa``, ...).

The canonical name of a VOC class is therefore its ChainerCV name
(``voc_bbox_label_names``, :data:`compare.adapters.chainer_ssd.VOC_NAMES`);
a COCO-only class keeps its COCO name (``traffic light``). No other fuzzy
matching is done: an unknown spelling is its own class, and the report lists
the classes a pair does not share.
"""
import re

#: Folded spelling -> canonical (VOC) name. Keys are already folded.
ALIASES = {
    'airplane': 'aeroplane',
    'aeroplane': 'aeroplane',
    'motorcycle': 'motorbike',
    'couch': 'sofa',
    'tv': 'tvmonitor',
    'tv monitor': 'tvmonitor',
    'dining table': 'diningtable',
    'potted plant': 'pottedplant',
}

_SEPARATORS = re.compile(r'[\s_\-]+')


def fold(name):
    """``'Dining_Table '`` -> ``'dining table'`` (case and separators only)."""
    return _SEPARATORS.sub(' ', str(name)).strip().lower()


def canonical(name):
    """The canonical class name of ``name`` (see the module docstring)."""
    folded = fold(name)
    return ALIASES.get(folded, folded)


def canonical_set(names):
    """``frozenset`` of the canonical names of an iterable of names."""
    return frozenset(canonical(name) for name in names)


def shared_classes(names_a, names_b):
    """Sorted tuple of canonical classes both vocabularies can name."""
    return tuple(sorted(canonical_set(names_a) & canonical_set(names_b)))


def mapping_table(vocabularies):
    """Rows ``{canonical, <vocab>: own spelling or ''}`` for a report.

    Args:
        vocabularies: ``{vocabulary name: iterable of class names}``.

    Returns:
        list of dicts, one per canonical class any vocabulary names, sorted
        by canonical name; a vocabulary that cannot name it gets ``''``.
    """
    spelled = {}
    for vocab, names in vocabularies.items():
        for name in names:
            spelled.setdefault(canonical(name), {})[vocab] = str(name)
    rows = []
    for canon in sorted(spelled):
        row = {'canonical': canon}
        row.update({vocab: spelled[canon].get(vocab, '') for vocab in vocabularies})
        rows.append(row)
    return rows
