"""``python -m ravyn.cli``: the ``ravyn`` command without the installed script."""

from ravyn.cli import main

main()
