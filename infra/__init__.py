"""The Pulumi program that declares the whole trading stack (entry point: infra/__main__.py)."""
