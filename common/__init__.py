"""Floor 0: the project's root error and the hex and time helpers every package shares.

Nothing here imports another package of the project.
"""

from common.errors import EregError
from common.hexutil import from_hex, to_hex
from common.timeutil import iso_utc

__all__ = ["EregError", "from_hex", "iso_utc", "to_hex"]
