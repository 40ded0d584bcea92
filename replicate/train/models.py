"""What a training run builds: the model's architecture as a small record that
snapshots carry, so a resumed run or a saved model rebuilds the same network.
"""
import dataclasses
import json

from replicate.errors import UserError

ARCHS = ('ssd300', 'ssd512', 'small')


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A buildable SSD.

    Attributes:
        arch: 'ssd300', 'ssd512' (VGG-16, the paper's) or 'small'
            (:class:`replicate.small.SmallSSD`).
        n_fg_class: classes without the background.
        insize, width, ratios: the small model's input side, base width and
            aspect ratio set (ignored by the VGG-16 models).
    """
    arch: str
    n_fg_class: int
    insize: int = 128
    width: int = 16
    ratios: str = 'ssd'

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise UserError('unknown model {!r}; valid: {}'.format(self.arch, ', '.join(ARCHS)))

    def build(self, resize_backend=None):
        """A freshly initialised model (ChainerCV's initialisers); the resize
        backend as :class:`replicate.SSD` takes it."""
        if self.arch == 'ssd300':
            from replicate.ssd300 import SSD300
            return SSD300(n_fg_class=self.n_fg_class, resize_backend=resize_backend)
        if self.arch == 'ssd512':
            from replicate.ssd512 import SSD512
            return SSD512(n_fg_class=self.n_fg_class, resize_backend=resize_backend)
        from replicate.small import SmallSSD
        return SmallSSD(self.n_fg_class, insize=self.insize, width=self.width,
                        ratios=self.ratios, resize_backend=resize_backend)

    def describe(self):
        """One line: 'ssd300' or 'small (insize 128, width 16, ratios ssd)'."""
        if self.arch != 'small':
            return self.arch
        return 'small (insize {}, width {}, ratios {})'.format(self.insize, self.width,
                                                             self.ratios)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data, source):
        try:
            return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)
                          if f.name in data})
        except TypeError as error:
            raise UserError('{}: bad model description {}: {}'.format(
                source, json.dumps(data), error)) from None
