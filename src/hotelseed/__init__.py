"""hotelseed: a consistent-by-construction hotel platform dataset, generated, loaded and verified.

    from hotelseed import seed       # the library API (hotelseed.api.seed)
"""

__version__ = "0.2.0"

from hotelseed.api import Seeded, seed  # noqa: E402

__all__ = ["Seeded", "seed", "__version__"]
