"""Versioned stack updates: pre-deploy hooks, `up`, verification, release history, rollback."""
