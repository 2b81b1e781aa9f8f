"""logtool: container-aware logging for many-container systems, and an analyzer for its trees."""

__version__ = "0.1.0"
