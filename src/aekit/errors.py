"""The one family of errors aekit raises for problems a user can fix.

Every message is one line that names the file, parameter or option concerned and says what to
do. The command line prints ``aekit: error: <message>`` for an :class:`AekitError` and exits
with status 2; any other exception is a bug (in aekit or below it) and is reported as one.
The subclasses also derive from the built-in exception a Python user would expect
(``ValueError`` for a bad value), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class AekitError(Exception):
    """A problem the user can fix; ``str(error)`` is one line saying what and how."""


class UsageError(AekitError):
    """Options of a command that cannot work together."""


class ParameterError(AekitError, ValueError):
    """A hyper-parameter has a value it cannot take.

    The message is a template whose ``{placeholders}`` name parameters, so one message reads
    ``latent_dim must be ...`` in Python and ``--latent must be ...`` on the command line:
    ``render(spell)`` spells each parameter name with ``spell``.
    """

    def __init__(self, template: str, **params: str):
        self.template = template
        self.params = params
        super().__init__(self.render(lambda name: name))

    def render(self, spell) -> str:
        return self.template.format(**{key: spell(name) for key, name in self.params.items()})


class FamilyError(AekitError, ValueError):
    """A model family that is unknown, or a plug-in family that fails to load."""


class DataError(AekitError, ValueError):
    """Data that cannot be found or read, or does not suit the model."""


class ModelFileError(AekitError, ValueError):
    """A model file that is missing, damaged, foreign or from a newer aekit."""


class RunError(AekitError, ValueError):
    """A run folder that cannot be used as asked."""


class OutputError(AekitError, OSError):
    """A file that cannot be written where asked (no permission, no space, a folder in the way)."""


class OutputExistsError(OutputError):
    """An output file exists and ``force`` was not given."""


class TrainingDiverged(AekitError, ArithmeticError):
    """The loss became NaN or infinite; training stopped before saving that epoch."""

    def __init__(self, epoch: int, metric: str):
        self.epoch = epoch
        self.metric = metric
        super().__init__(f"the {metric} became NaN or infinite in epoch {epoch}; training stopped")
