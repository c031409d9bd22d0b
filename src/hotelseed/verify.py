"""All invariant checks of all modules, run against a database."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from hotelseed.core.checks import Check, Report, run
from hotelseed.modules.bookings.checks import CHECKS as BOOKINGS
from hotelseed.modules.comms.checks import CHECKS as COMMS
from hotelseed.modules.identity.checks import CHECKS as IDENTITY
from hotelseed.modules.loyalty.checks import CHECKS as LOYALTY
from hotelseed.modules.properties.checks import CHECKS as PROPERTIES

ALL_CHECKS: list[Check] = [*PROPERTIES, *IDENTITY, *BOOKINGS, *LOYALTY, *COMMS]

__all__ = ["ALL_CHECKS", "Report", "run_checks"]


def run_checks(conn: Connection, plan_or_as_of=None) -> Report:
    """Run every check. `as_of` bounds time ("everything <= as_of"): the seed run's, or the latest run's."""
    from hotelseed.modules.bookings.checks import params_for

    return run(conn, ALL_CHECKS, params_for(conn, plan_or_as_of))
