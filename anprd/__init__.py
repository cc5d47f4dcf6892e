"""anprd: Argentine licence plate monitoring daemon."""

__version__ = "0.1.0"
