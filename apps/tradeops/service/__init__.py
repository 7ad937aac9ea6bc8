"""HTTP services and what they share: the health standard, the job runner."""
