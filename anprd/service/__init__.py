"""The daemon: its lifecycle, the detector loop, reload, logging."""
