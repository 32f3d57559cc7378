"""The chain index: a local SQLite projection of the registries' events (see :mod:`chainindex.index`)."""

from chainindex.index import *  # noqa: F403
from chainindex.index import __all__ as __all__
