"""User errors of the OD API port: one line naming the file or field and the fix."""
from replicate.errors import UserError, WeightsError


class ConfigError(UserError, ValueError):
    """A ``pipeline.config`` that cannot be read, or that asks for something
    this port does not build (the message names the field)."""


class ExportError(UserError):
    """An export folder without what the port needs (pipeline.config,
    variables), or a TF1 frozen graph (weights baked into the graph)."""


class ExportWeightsError(WeightsError):
    """The export's variables do not fit the model its pipeline.config
    describes: missing, unexpected or misshapen variables, all named."""
