"""Every table, imported so that Base.metadata knows the whole schema."""

from hotelseed.core.schema import Base, SeedRun  # noqa: F401
from hotelseed.modules.bookings import models as bookings  # noqa: F401
from hotelseed.modules.comms import models as comms  # noqa: F401
from hotelseed.modules.identity import models as identity  # noqa: F401
from hotelseed.modules.loyalty import models as loyalty  # noqa: F401
from hotelseed.modules.properties import models as properties  # noqa: F401

metadata = Base.metadata
