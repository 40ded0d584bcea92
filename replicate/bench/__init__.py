"""``python -m replicate.bench``: how fast SSD300 runs, stage by stage.

For each batch size the same generated images go through three stages, each
timed on its own after the device has finished the previous one:

* ``preprocess``: resize, subtract the mean, stack, send to the device;
* ``forward``: the network (``mb_locs``, ``mb_confs``);
* ``postprocess``: decode, per-class score threshold and NMS, rescale to the
  image, copy to the host;

and ``total`` is the wall clock of the three together. After ``--warmup``
untimed calls, ``--repeats`` timed calls give a median and a 90th percentile.
The command imports ChainerCV only when asked to time it too
(``--against chainercv``), so it runs where ChainerCV is not installed.
"""
