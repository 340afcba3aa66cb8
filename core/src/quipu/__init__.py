"""quipu: a plugin-first AI platform for Chilean ERP systems.

Plugins import everything they use of the platform from :mod:`quipu.api` (and their
tests from :mod:`quipu.testing`); the rest of the package is the platform's own.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
