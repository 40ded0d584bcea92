"""VOC <-> COCO class names by canonical name."""
import pytest

from compare.adapters.chainer_ssd import VOC_NAMES
from compare.adapters.label_map import COCO_LABEL_MAP, parse_label_map
from compare.score.classes import canonical, mapping_table, shared_classes


@pytest.mark.parametrize('coco, voc', [('airplane', 'aeroplane'), ('motorcycle', 'motorbike'),
                                       ('couch', 'sofa'), ('tv', 'tvmonitor'),
                                       ('dining table', 'diningtable'),
                                       ('potted plant', 'pottedplant'), ('person', 'person')])
def test_coco_and_voc_spellings_meet(coco, voc):
    assert canonical(coco) == canonical(voc) == voc


def test_case_and_separators_are_folded():
    assert canonical('Dining_Table ') == 'diningtable'
    assert canonical('Potted-Plant') == 'pottedplant'
    assert canonical('Traffic  Light') == 'traffic light'


def test_every_voc_class_is_shared_with_coco():
    coco = parse_label_map(COCO_LABEL_MAP).values()  # the map shipped for the TF zoo
    assert len(VOC_NAMES) == 20 and len(coco) == 80
    assert shared_classes(VOC_NAMES, coco) == tuple(sorted(VOC_NAMES))


def test_unknown_spelling_is_not_guessed():
    assert shared_classes(['aeroplanes'], ['airplane']) == ()
    assert canonical('truck') == 'truck'


def test_mapping_table_lists_each_spelling():
    rows = mapping_table({'voc': ['sofa', 'cat'], 'coco': ['couch', 'truck']})
    assert rows == [{'canonical': 'cat', 'voc': 'cat', 'coco': ''},
                    {'canonical': 'sofa', 'voc': 'sofa', 'coco': 'couch'},
                    {'canonical': 'truck', 'voc': '', 'coco': 'truck'}]
