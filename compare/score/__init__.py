"""Scoring: the tables of a run folder, from its saved outputs only.

:func:`compare.score.scorer.score_tables` reads the run folder
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
- :mod:`~compare.score.scorer`: all of it.

Scoring imports neither :mod:`compare.report` (which reads what it scored:
the commands call one, then the other, :mod:`compare.runner.scoring`) nor
:mod:`compare.adapters` (the detectors that wrote the run folder).
``python -m compare.score RUN_DIR`` is :func:`compare.runner.scoring.main`.
"""
