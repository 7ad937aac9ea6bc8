"""`python -m tradeops.cli` is `tradeops`."""

from tradeops.cli import main
from tradeops.cli.process import run

run(main)
