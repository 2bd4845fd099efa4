"""Probes: short measurements behind decisions in the issue notes; not part of the benchmark."""
