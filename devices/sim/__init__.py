"""Instrument and GNSS simulators on pseudo-terminals, for demo, training and tests."""
