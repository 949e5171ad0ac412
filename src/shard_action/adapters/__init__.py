"""The edges: files, XML, subprocesses and the GitHub Actions runtime.

Each adapter turns the outside world into core values (``shard_action.core.models``) and reports
bad input as :class:`shard_action.errors.InputError` naming the file.
"""
