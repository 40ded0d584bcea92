"""``random_weights=yes``: the user declares a detector's weights random.

Some exports cannot tell that they hold random weights: a TF OD API model
exported before training (such as the two fixtures under tests/fixtures) looks
exactly like a trained one. The spec option ``random_weights=yes`` (accepted by
every kind) wraps the adapter in :class:`DeclaredRandom`, whose ``info`` says
``random_weights: True`` with a note, so the loud RANDOM WEIGHTS banner of
summary.md and report.html names it. ``random_weights=no`` changes nothing (a
detector that knows its weights are random still says so).
"""
import dataclasses

from compare.errors import UserError

#: Recorded in the detector's ``info`` when the flag comes from the spec.
NOTE = 'random_weights=yes given in the detector spec: weights declared random (untrained)'


class DeclaredRandom:
    """An adapter whose ``info`` says ``random_weights: True``; the rest is delegated.

    Args:
        adapter: any adapter (``name``, ``load``, ``predict``, ``info``).
    """

    def __init__(self, adapter):
        self.adapter = adapter
        self.name, self.order = adapter.name, adapter.order
        # what the adapter takes (compare.adapters.protocol.inputs_for)
        self.reads_files = getattr(adapter, 'reads_files', False)
        self.reads_names = getattr(adapter, 'reads_names', False)
        self.timed = getattr(adapter, 'timed', True)
        if hasattr(adapter, 'predict_candidates'):  # --common-nms
            self.predict_candidates = adapter.predict_candidates

    def load(self):
        return self.adapter.load()

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> the adapter's Prediction."""
        return self.adapter.predict(images)

    def info(self):
        info = self.adapter.info()
        return dataclasses.replace(info, random_weights=True,
                                   info=dict(info.info, random_weights_note=NOTE))


def parse_flag(value, spec):
    """``'yes'`` -> True, ``'no'`` or None -> False; anything else is a UserError."""
    if value is None or value.lower() == 'no':
        return False
    if value.lower() == 'yes':
        return True
    raise UserError('random_weights={} in {!r}: use random_weights=yes or random_weights=no'
                    .format(value, spec))
