"""``python -m gutstride``."""

from gutstride.cli import main

main()
