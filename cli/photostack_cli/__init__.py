"""The ``photostack`` command line: a client of the three photostack APIs."""
