"""The verifier's index is the :mod:`chainindex` package; its public names stay importable here."""

from chainindex import *  # noqa: F403
from chainindex import __all__ as __all__
