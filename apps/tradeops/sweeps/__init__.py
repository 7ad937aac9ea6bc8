"""Sweeps and walk-forwards split into shards that run anywhere (processes, Indexed Job pods) and merge exactly."""
