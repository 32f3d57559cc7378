"""The privacy test's helpers: the services run with every logger at DEBUG, and a scanner that
looks for personal values in every encoding they could take in a log, a transaction or a block."""
