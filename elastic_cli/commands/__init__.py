"""One module per command: click options -> core calls -> output."""
