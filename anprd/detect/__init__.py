"""Plates in a frame: the pyramid, the networks and their runtimes, merging, reading."""
