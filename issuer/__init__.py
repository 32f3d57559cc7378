"""The ``ereg`` command-line tool of issuing departments and governance."""
