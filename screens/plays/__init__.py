"""Proof of play: partitions, recording and delivery rates."""
