"""What a training run builds: the model's architecture as a small record that
snapshots carry, so a resumed run or a saved model rebuilds the same network.
"""
import dataclasses
import json

from replicate.errors import UserError

#: What ``--model`` chooses.
ARCHS = ('ssd300', 'ssd512', 'small')
#: The OD API's SSD-MobileNetV2, built from an export's pipeline.config
#: (``--finetune-from tf:EXPORT_DIR``: :mod:`replicate.train.odapi_source`).
ODAPI = 'odapi'


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A buildable SSD.

    Attributes:
        arch: 'ssd300', 'ssd512' (VGG-16, the paper's), 'small'
            (:class:`replicate.ssd.small.SmallSSD`) or 'odapi'
            (:class:`replicate.odapi.SSDMobileNetV2`).
        n_fg_class: classes without the background.
        insize, width, ratios: the small model's input side, base width and
            aspect ratio set (ignored by the other models).
        pipeline: 'odapi': the text of the source export's pipeline.config
            (the model is :func:`replicate.train.odapi_source.build` of it).
    """
    arch: str
    n_fg_class: int
    insize: int = 128
    width: int = 16
    ratios: str = 'ssd'
    pipeline: str = ''

    def __post_init__(self):
        if self.arch not in ARCHS + (ODAPI,):
            raise UserError('unknown model {!r}; valid: {}'.format(self.arch, ', '.join(ARCHS)))
        if (self.arch == ODAPI) != bool(self.pipeline):
            raise UserError('model {}: a pipeline.config goes with the odapi model, and only '
                            'with it'.format(self.arch))

    def build(self, resize_backend=None):
        """A freshly initialised model (ChainerCV's initialisers); the resize
        backend as :class:`replicate.SSD` takes it."""
        if self.arch == 'ssd300':
            from replicate.ssd.ssd300 import SSD300
            return SSD300(n_fg_class=self.n_fg_class, resize_backend=resize_backend)
        if self.arch == 'ssd512':
            from replicate.ssd.ssd512 import SSD512
            return SSD512(n_fg_class=self.n_fg_class, resize_backend=resize_backend)
        if self.arch == ODAPI:
            from replicate.train.odapi_source import build
            return build(self.pipeline, self.n_fg_class)
        from replicate.ssd.small import SmallSSD
        return SmallSSD(self.n_fg_class, insize=self.insize, width=self.width,
                        ratios=self.ratios, resize_backend=resize_backend)

    def describe(self):
        """One line: 'ssd300' or 'small (insize 128, width 16, ratios ssd)'."""
        if self.arch == ODAPI:
            return 'odapi (OD API SSD-MobileNetV2, from the export\'s pipeline.config)'
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
