"""One module per ``ravyn`` subcommand.

A module here that defines ``register(commands)`` is a subcommand (``ravyn/cli/command.py``
says how to write one): add ``ravyn/cli/commands/hello.py`` and ``ravyn hello`` exists.
"""
