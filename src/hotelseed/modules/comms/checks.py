"""Communication hub invariants (platform.md §4.4 inv. 21-25) and the spec's thread checks."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from hotelseed.core.checks import Check, epoch, fetch

M = "comms"
# Items of a thread; e-mails not sent yet (DRAFT, QUEUED) are neither an answer nor the last message.
ITEMS = ("SELECT thread_id AS t, CASE WHEN status IN ('DRAFT','QUEUED') THEN 'UNSENT' ELSE CAST(direction AS VARCHAR(8)) END "
         "AS dir, created_at AS at FROM emails WHERE thread_id IS NOT NULL "
         "UNION ALL SELECT thread_id, CAST(direction AS VARCHAR(8)), created_at FROM message_logs WHERE thread_id IS NOT NULL "
         "UNION ALL SELECT thread_id, CAST(direction AS VARCHAR(8)), initiated_at FROM call_logs WHERE thread_id IS NOT NULL "
         "UNION ALL SELECT thread_id, CAST('NOTE' AS VARCHAR(8)), created_at FROM conversation_notes")
SLA_DEFAULT = {"URGENT": 15, "HIGH": 60, "NORMAL": 240, "LOW": 1440}


def _derived(conn, params):
    """first_response_at = first outbound item; last_message_at = last item; sla_breached by priority (inv. 23).
    In SQL, thread by thread in the database: what is read back is the violations, whatever the hub's size."""
    d = conn.dialect.name
    prof = params.get("_profile")
    sla = (prof.comms.get("sla_minutes") if prof else None) or SLA_DEFAULT
    limit = "CASE CAST(t.priority AS VARCHAR(8)) " + " ".join(
        f"WHEN '{k}' THEN {int(v) * 60}" for k, v in sla.items()) + " END"
    answered_after = f"{epoch(d, 't.first_response_at')} - {epoch(d, 't.created_at')}"
    waiting = f"{int(params['as_of'])} - {epoch(d, 't.created_at')}"
    want_breach = f"CASE WHEN t.first_response_at IS NOT NULL THEN {answered_after} ELSE {waiting} END > {limit}"
    checked = int(conn.execute(sa.text("SELECT count(*) FROM threads")).scalar())
    bad = [r[0] for r in fetch(conn, (
        "SELECT t.id FROM threads t LEFT JOIN (SELECT x.t AS thread_id, "
        "MIN(CASE WHEN x.dir = 'OUTBOUND' THEN x.at END) AS first_out, "
        "MAX(CASE WHEN x.dir IN ('INBOUND','OUTBOUND') THEN x.at END) AS last_item "
        f"FROM ({ITEMS}) x GROUP BY x.t) a ON a.thread_id = t.id WHERE "
        f"coalesce({epoch(d, 't.first_response_at')}, -1) <> coalesce({epoch(d, 'a.first_out')}, -1) "
        f"OR coalesce({epoch(d, 't.last_message_at')}, -1) <> coalesce({epoch(d, 'a.last_item')}, -1) "
        f"OR (CASE WHEN {want_breach} THEN 1 ELSE 0 END) <> (CASE WHEN t.sla_breached THEN 1 ELSE 0 END)"))]
    return checked, bad


def _recipients(d: str) -> str:
    """(address, category, epoch seconds) of every outbound e-mail's every recipient."""
    expand = ("CROSS JOIN LATERAL jsonb_array_elements_text(e.to_emails) AS j(value)" if d == "postgresql"
              else ", json_each(e.to_emails) j")
    return (f"SELECT j.value AS address, e.category AS category, {epoch(d, 'e.created_at')} AS at FROM emails e {expand} "
            "WHERE e.direction = 'OUTBOUND'")


def _suppression(conn, params):
    """Bounce/complaint suppressions point at the e-mail with that event; after suppressed_at no outbound mail
    (any, for bounces/complaints; marketing, for unsubscribes) and no outbound message to an opted-out phone (inv. 24).
    Only the events, e-mails and messages of suppressed addresses are read: memory follows the suppressions."""
    d = conn.dialect.name
    sups = fetch(conn, f"SELECT id, channel, address, reason, origin_email_id, {epoch(d, 'suppressed_at')} FROM suppressions")
    events = defaultdict(list)
    for eid, typ, rcpt, at, status in fetch(conn, f"SELECT e.email_id, e.event_type, e.recipient, {epoch(d, 'e.occurred_at')}, "
                                                  "m.status FROM email_events e JOIN emails m ON m.id = e.email_id "
                                                  "WHERE e.email_id IN (SELECT origin_email_id FROM suppressions)"):
        events[eid].append((typ, rcpt, at, status))
    outbound = defaultdict(list)
    for addr, cat, at in fetch(conn, f"SELECT r.address, r.category, r.at FROM ({_recipients(d)}) r WHERE r.address IN "
                                     "(SELECT address FROM suppressions WHERE channel = 'EMAIL')"):
        outbound[addr].append((cat, at))
    phone_out = defaultdict(list)
    for ch, phone, at in fetch(conn, f"SELECT channel, phone, {epoch(d, 'created_at')} FROM message_logs WHERE direction = "
                                     "'OUTBOUND' AND phone IN (SELECT address FROM suppressions WHERE channel <> 'EMAIL')"):
        phone_out[(ch, phone)].append(at)
    bad = []
    for sid, ch, addr, reason, origin, at in sups:
        if ch == "EMAIL":
            if reason in ("HARD_BOUNCE", "SPAM_COMPLAINT"):
                want = "BOUNCE" if reason == "HARD_BOUNCE" else "SPAM_COMPLAINT"
                evs = events.get(origin, [])
                if not any(t == want and r == addr and e_at <= at for t, r, e_at, _s in evs) or \
                        (reason == "HARD_BOUNCE" and not all(s == "BOUNCED" for *_x, s in evs)):
                    bad.append(sid)
                    continue
                if any(t_at > at for _c, t_at in outbound.get(addr, [])):
                    bad.append(sid)
            elif any(c == "MARKETING" and t_at > at for c, t_at in outbound.get(addr, [])):
                bad.append(sid)
        elif any(t_at > at for t_at in phone_out.get((ch, addr), [])) and reason == "UNSUBSCRIBE":
            bad.append(sid)
    return len(sups), bad


CHECKS = [
    Check("threads.booking_link", "§4.4 inv. 21", M,
          "a booking thread has the booking's property and member, and starts after the booking was made",
          "SELECT count(*) FROM threads WHERE booking_id IS NOT NULL",
          "SELECT t.id FROM threads t JOIN bookings b ON b.id = t.booking_id WHERE t.property_id <> b.property_id OR "
          "t.created_at < b.created_at OR (b.loyalty_account_id IS NOT NULL AND (t.user_id IS NULL OR t.user_id <> "
          "(SELECT a.user_id FROM loyalty_accounts a WHERE a.id = b.loyalty_account_id)))"),
    Check("threads.links_by_category", "spec: thread links", M,
          "booking threads link a booking; general inquiries a user and no booking; support a user or a booking",
          "SELECT count(*) FROM threads",
          "SELECT id FROM threads WHERE (category = 'BOOKING' AND booking_id IS NULL) OR "
          "(category = 'GENERAL' AND (user_id IS NULL OR booking_id IS NOT NULL)) OR "
          "(category = 'SUPPORT' AND user_id IS NULL AND booking_id IS NULL)"),
    Check("threads.assignee_at_property", "§4.4 inv. 22", M,
          "the assignee holds STAFF_FRONTDESK, STAFF_OPS or MANAGER at the thread's property",
          "SELECT count(*) FROM threads WHERE assigned_to IS NOT NULL",
          "SELECT t.id FROM threads t WHERE t.assigned_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE "
          "r.user_id = t.assigned_to AND r.property_id = t.property_id AND r.role_key IN ('STAFF_FRONTDESK','STAFF_OPS','MANAGER'))"),
    Check("threads.assignment_rules", "spec: thread assignment logic", M,
          "booking threads → front desk or manager; general inquiries → front desk; escalations → manager; "
          "unassigned only while open",
          "SELECT count(*) FROM threads",
          "SELECT t.id FROM threads t WHERE (t.assigned_to IS NULL AND t.status IN ('RESOLVED','ARCHIVED')) OR "
          "(t.assigned_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = t.assigned_to AND "
          "r.property_id = t.property_id AND CAST(r.role_key AS VARCHAR(16)) IN (CASE WHEN t.is_escalated THEN 'MANAGER' "
          "WHEN t.category = 'BOOKING' THEN 'STAFF_FRONTDESK' ELSE 'STAFF_FRONTDESK' END, "
          "CASE WHEN t.is_escalated THEN 'MANAGER' WHEN t.category = 'BOOKING' THEN 'MANAGER' ELSE 'STAFF_FRONTDESK' END)))"),
    Check("threads.items_in_window", "§4.4 inv. 23", M,
          "every e-mail, message, call and note of a thread is at or after the thread starts and at or before as_of",
          f"SELECT count(*) FROM ({ITEMS}) x",
          lambda d: f"SELECT x.t FROM ({ITEMS}) x JOIN threads t ON t.id = x.t WHERE x.at < t.created_at OR {epoch(d, 'x.at')} > :as_of"),
    Check("threads.lifecycle", "§4.4 inv. 23", M,
          "resolved_at ≥ first response; RESOLVED/ARCHIVED ⇒ resolved_at; archived ⇔ ARCHIVED; NEW ⇒ no answer yet",
          "SELECT count(*) FROM threads",
          lambda d: "SELECT id FROM threads WHERE (status IN ('RESOLVED','ARCHIVED') AND resolved_at IS NULL) OR "
          "(resolved_at IS NOT NULL AND (first_response_at IS NULL OR resolved_at < first_response_at OR "
          f"{epoch(d, 'resolved_at')} > :as_of)) OR (is_archived <> (status = 'ARCHIVED')) OR "
          "(status = 'NEW' AND first_response_at IS NOT NULL)"),
    Check("threads.derived_fields", "§4.4 inv. 23", M,
          "first_response_at, last_message_at and sla_breached agree with the items", fn=_derived),
    Check("suppressions.honoured", "§4.4 inv. 24", M,
          "suppressions have their origin event, and nothing that must not be sent is sent afterwards", fn=_suppression),
    Check("messages.coherent", "§4.4 inv. 25", M,
          "created ≤ sent ≤ delivered ≤ read; READ only on WhatsApp; FAILED has an error; inbound delivered at creation",
          "SELECT count(*) FROM message_logs",
          "SELECT id FROM message_logs WHERE (status = 'READ' AND (channel <> 'WHATSAPP' OR read_at IS NULL)) OR "
          "(status = 'FAILED' AND error_message IS NULL) OR (status = 'DELIVERED' AND delivered_at IS NULL) OR "
          "(direction = 'INBOUND' AND (status NOT IN ('DELIVERED','READ') OR delivered_at <> created_at)) OR "
          "(sent_at IS NOT NULL AND sent_at < created_at) OR (delivered_at IS NOT NULL AND (sent_at IS NULL OR delivered_at < sent_at)) "
          "OR (read_at IS NOT NULL AND read_at < delivered_at)"),
    Check("messages.whatsapp_window", "§4.4 inv. 25", M,
          "an outbound WhatsApp more than 24 h after the guest's last inbound message is a template",
          "SELECT count(*) FROM message_logs WHERE channel = 'WHATSAPP' AND direction = 'OUTBOUND'",
          lambda d: "SELECT o.id FROM message_logs o WHERE o.channel = 'WHATSAPP' AND o.direction = 'OUTBOUND' AND "
          f"o.template_id IS NULL AND {epoch(d, 'o.created_at')} - coalesce((SELECT max({epoch(d, 'i.created_at')}) FROM message_logs i "
          "WHERE i.thread_id = o.thread_id AND i.direction = 'INBOUND' AND i.created_at <= o.created_at), 0) > 86400"),
    Check("calls.coherent", "§4.4 inv. 25", M,
          "inbound from the contact to the property (outbound the reverse); COMPLETED has duration = completed − answered",
          "SELECT count(*) FROM call_logs",
          lambda d: "SELECT c.id FROM call_logs c JOIN threads t ON t.id = c.thread_id JOIN properties p ON p.id = t.property_id "
          "JOIN contacts k ON k.id = t.contact_id WHERE (c.direction = 'INBOUND' AND (c.from_number <> k.phone OR c.to_number <> p.phone)) "
          "OR (c.direction = 'OUTBOUND' AND (c.to_number <> k.phone OR c.from_number <> p.phone)) OR "
          f"(c.status = 'COMPLETED' AND abs(({epoch(d, 'c.completed_at')} - {epoch(d, 'c.answered_at')}) - c.duration_sec) > 2)"),
]
