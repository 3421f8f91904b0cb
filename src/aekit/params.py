"""A family's hyper-parameters, declared once: name, kind, default, one line of help.

A family class lists :class:`Param` entries in ``params`` (and may change inherited defaults in
``defaults``); a child family inherits its parent's entries without re-listing them. Everything
else reads that declaration: the estimator's ``__init__`` (scikit-learn style: it only stores the
values), its validation at ``fit``, the command line's flags and ``--help``, the parameters in
``settings.json`` and in model files, and the report. This module imports neither Keras nor
scikit-learn, so the command line can read declarations at once.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from aekit.errors import ParameterError

#: Keras activation names a family accepts (``keras.activations.get`` knows them all).
ACTIVATIONS = ("relu", "elu", "selu", "gelu", "silu", "swish", "tanh", "sigmoid", "softplus", "leaky_relu", "linear")


class Kind:
    """What values a parameter takes: ``check`` normalises a value or raises ``ValueError(phrase)``."""

    metavar = "VALUE"

    def check(self, value):
        raise NotImplementedError

    def parse(self, text: str):
        """The value of a command-line argument ``text``."""
        return self.check(text)

    def describe(self) -> str:
        raise NotImplementedError


class Integer(Kind):
    metavar = "N"

    def __init__(self, min: int | None = None, max: int | None = None):
        self.min, self.max = min, max

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"must be {self.describe()}")
        value = int(value)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ValueError(f"must be {self.describe()}")
        return value

    def parse(self, text):
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        return self.check(number)

    def describe(self):
        if self.min == 1 and self.max is None:
            return "a positive whole number"
        if self.min == 0 and self.max is None:
            return "0 or more"
        bounds = [f">= {self.min}" if self.min is not None else "", f"<= {self.max}" if self.max is not None else ""]
        return "a whole number " + " and ".join(b for b in bounds if b) if any(bounds) else "a whole number"


class Real(Kind):
    metavar = "X"

    def __init__(
        self, min: float | None = None, max: float | None = None, *, min_open: bool = False, max_open: bool = False
    ):
        self.min, self.max, self.min_open, self.max_open = min, max, min_open, max_open

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"must be {self.describe()}")
        value = float(value)
        low_ok = self.min is None or (value > self.min if self.min_open else value >= self.min)
        high_ok = self.max is None or (value < self.max if self.max_open else value <= self.max)
        if not (low_ok and high_ok):
            raise ValueError(f"must be {self.describe()}")
        return value

    def parse(self, text):
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        return self.check(number)

    def describe(self):
        if self.min is not None and self.max is not None:
            left, right = "(" if self.min_open else "[", ")" if self.max_open else "]"
            return f"a number in {left}{self.min:g}, {self.max:g}{right}"
        if self.min is not None:
            return f"a finite number {'>' if self.min_open else '>='} {self.min:g}"
        if self.max is not None:
            return f"a finite number {'<' if self.max_open else '<='} {self.max:g}"
        return "a finite number"


class Choice(Kind):
    def __init__(self, *options):
        self.options = tuple(options)
        self.metavar = "{" + ",".join(map(str, options)) + "}"

    def check(self, value):
        if value not in self.options:
            raise ValueError(f"must be {self.describe()}")
        return value

    def describe(self):
        return "one of " + ", ".join(map(str, self.options))


class Sizes(Kind):
    """Layer sizes: a tuple of positive whole numbers (``"128,64"`` on the command line)."""

    metavar = "SIZES"

    def __init__(self, min_len: int = 0):
        self.min_len = min_len

    def check(self, value):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise ValueError(f"must be {self.describe()}")
        sizes = tuple(value)
        if len(sizes) < self.min_len or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(f"must be {self.describe()}")
        return tuple(int(s) for s in sizes)

    def parse(self, text):
        try:
            sizes = tuple(int(part) for part in text.split(",")) if text.strip() else ()
        except ValueError:
            raise ValueError(f"{text!r} is not a comma-separated list of whole numbers, e.g. 128,64") from None
        return self.check(sizes)

    def describe(self):
        return "positive whole numbers" + (" (at least one)" if self.min_len else "")


class Flag(Kind):
    metavar = ""

    def check(self, value):
        if type(value).__name__ not in ("bool", "bool_"):  # Python's or NumPy's bool
            raise ValueError("must be True or False")
        return bool(value)

    def describe(self):
        return "True or False"


class Optional(Kind):
    """``None`` (meaning: the family picks, or: nothing) or a value of ``kind``.

    ``word`` spells ``None`` on the command line (``--scale none``); ``check`` turns it into None.
    """

    def __init__(self, kind: Kind, none_means: str, word: str | None = None):
        self.kind, self.none_means, self.word = kind, none_means, word
        self.metavar = kind.metavar
        if word is not None and hasattr(kind, "options"):
            self.options = (*kind.options, word)

    def check(self, value):
        if value is None or (self.word is not None and value == self.word):
            return None
        return self.kind.check(value)

    def parse(self, text):
        if self.word is not None and text == self.word:
            return text  # not None, so the command line sees an option that was given
        return self.kind.parse(text)

    def describe(self):
        if self.word is not None:
            return f"{self.kind.describe()}, or None ({self.word!r}: {self.none_means})"
        return f"{self.kind.describe()} (unset: {self.none_means})"


@dataclass(frozen=True)
class Param:
    """One hyper-parameter of a family.

    ``flag`` is the command-line option without dashes ("" derives it from the name, None keeps
    the parameter out of the command line); ``positional`` parameters may be passed by position
    in Python; ``requires`` names other parameters' values without which this one has no effect
    (the command line refuses such an option instead of ignoring it); ``group`` is ``"model"`` or
    ``"training"`` (how it trains, listed last).
    """

    name: str
    default: Any
    kind: Kind
    help: str
    flag: str | None = ""
    positional: bool = False
    requires: dict = field(default_factory=dict)
    group: str = "model"

    @property
    def option(self) -> str | None:
        """The command-line spelling, e.g. ``--latent``, or None."""
        if self.flag is None:
            return None
        return "--" + (self.flag or self.name).replace("_", "-")

    def check(self, value):
        """``value`` normalised (lists become tuples), or a :class:`ParameterError` naming the parameter."""
        try:
            return self.kind.check(value)
        except ValueError as exc:
            raise ParameterError(f"{{p}} {exc}, got {value!r}", p=self.name) from None


def merge(bases_params: list[dict[str, Param]], own: list[Param], defaults: dict) -> dict[str, Param]:
    """A class's parameters: its bases' (first base last, so the nearest wins), then its own, then new defaults."""
    merged: dict[str, Param] = {}
    for inherited in reversed(bases_params):
        merged.update(inherited)
    for param in own:
        merged[param.name] = param
    for name, default in defaults.items():
        if name not in merged:
            raise TypeError(f"defaults names {name!r}, which is not a parameter")
        merged[name] = _replace(merged[name], default=default)
    # positional parameters first, training ones last, each group in declaration order
    return dict(sorted(merged.items(), key=lambda item: (not item[1].positional, item[1].group == "training")))


def make_init(params: dict[str, Param], owner: str):
    """An ``__init__`` with one keyword argument per parameter that only stores the values (scikit-learn's rule).

    Written out as source (as :mod:`dataclasses` does) so ``inspect.signature`` — which
    scikit-learn's ``get_params`` and ``clone`` read — sees the real parameters and defaults.
    """
    positional = [p for p in params.values() if p.positional]
    keyword = [p for p in params.values() if not p.positional]
    arguments = ["self"] + [f"{p.name}=_defaults[{p.name!r}]" for p in positional]
    if keyword:
        arguments += ["*"] + [f"{p.name}=_defaults[{p.name!r}]" for p in keyword]
    body = "".join(f"    self.{p.name} = {p.name}\n" for p in params.values()) or "    pass\n"
    namespace = {"_defaults": {p.name: p.default for p in params.values()}}
    exec(f"def __init__({', '.join(arguments)}):\n{body}", namespace)  # noqa: S102  (names come from declarations)
    init = namespace["__init__"]
    init.__qualname__ = f"{owner}.__init__"
    init.__doc__ = "Store the hyper-parameters (see the class docstring and ``params``):\n\n" + "\n".join(
        f"* ``{p.name}`` (default ``{p.default!r}``): {p.help}" for p in params.values()
    )
    return init


def _replace(param: Param, **changes) -> Param:
    from dataclasses import replace

    return replace(param, **changes)
