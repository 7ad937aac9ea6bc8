"""CI/CD stages as Python, run the same locally and in CI."""
