"""Where events and figures go: the events log, metrics, known-plate lists, sinks."""
