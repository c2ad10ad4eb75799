"""``python -m pipeline.cli``: the ``newswatch`` command."""

from pipeline.cli import main

main()
