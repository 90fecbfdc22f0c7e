"""Device protocols, drivers and simulators (no Qt: ``ui/`` adapts them)."""
