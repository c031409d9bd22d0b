"""`hotelseed realism`: every module's realism metrics, read back from the target database."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from hotelseed.core.metrics import RealismReport
from hotelseed.modules.bookings.realism import booking_scores, occupancy_scores, read_bookings
from hotelseed.modules.loyalty.realism import loyalty_scores


def realism_report(conn: Connection, as_of: int, profile=None) -> RealismReport:
    report = RealismReport()
    report.scores.extend(booking_scores(read_bookings(conn, as_of)))
    report.scores.extend(occupancy_scores(conn, as_of, profile))
    report.scores.extend(loyalty_scores(conn, profile))
    return report
