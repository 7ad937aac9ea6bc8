"""`python -m tradeops.cli` is `tradeops`."""

from tradeops.cli import main

main()
