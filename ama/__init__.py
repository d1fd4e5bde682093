"""ama: version large data assets the way git versions code."""

__version__ = "0.1.0"
