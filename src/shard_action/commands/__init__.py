"""Sub-commands: thin wiring from the command line to adapters and the functional core.

Each module exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning the exit status.
"""
