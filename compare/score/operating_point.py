"""The operating point of scoring, in a module of its own so that the options
of every scoring command are built without importing the scorer."""

#: Every detector's detections with ``score >= SCORE_THRESH`` are compared
#: (agreement, precision, recall, F1, errors, confusion) unless
#: ``--score-thresh`` says otherwise. 0.5 is the TF OD API's visualisation
#: threshold (``min_score_thresh``); the mAP uses every detection kept.
SCORE_THRESH = 0.5
