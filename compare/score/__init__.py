"""Scoring: the tables of a run folder, from its saved outputs only.

:func:`score_run` (``python -m compare.score RUN_DIR``) reads the run folder
(:mod:`compare.rundir`, arranged into tables by :mod:`~compare.score.inputs`)
and computes, one module each:

- :mod:`~compare.score.classes`: class names across vocabularies (VOC <-> COCO);
- :mod:`~compare.score.agreement`: detector against detector;
- :mod:`~compare.score.ground_truth` (VOC XML, COCO JSON) and
  :mod:`~compare.score.attach` (matching it to the run's images, clipping);
- :mod:`~compare.score.evaluators`: ChainerCV's VOC and pycocotools' COCO
  evaluators, called on our format (:mod:`~compare.score.coco_eval`: the
  COCO library, pycocotools or faster-coco-eval); :mod:`~compare.score.ap`:
  the AP tables; :mod:`~compare.score.metric_names`: their OD API and
  pycocotools names; :mod:`~compare.score.tide`: TIDE's AP and dAP per error
  type;
- :mod:`~compare.score.matching`: each detection against the ground truth
  (VOC rule, TIDE error types); :mod:`~compare.score.diagnosis`: counts at
  the operating point, the threshold sweep, the confusion matrix;
- :mod:`~compare.score.redecode`: the Chainer SSDs re-decoded from kept
  network outputs, and the NMS x score threshold grid;
- :mod:`~compare.score.speed`: percentiles of the benchmark, and how far to
  trust them;
- :mod:`~compare.score.headline`: one line per detector;
- :mod:`~compare.score.scorer`: all of it, then :mod:`compare.report`.
"""


def __getattr__(name):
    """``compare.score.score_run``, imported on first use: the run command
    reads annotations (:mod:`compare.score.ground_truth`) before any image
    without importing pandas, matplotlib and the evaluators."""
    if name == 'score_run':
        from compare.score.scorer import score_run
        return score_run
    raise AttributeError('module {!r} has no attribute {!r}'.format(__name__, name))
