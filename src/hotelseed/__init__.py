"""hotelseed: a consistent-by-construction hotel platform dataset, generated, loaded and verified."""

__version__ = "0.1.0"
