"""Each verification check must be able to fail: corrupt the seeded data on purpose (with the database's own
guards lifted inside a transaction that is rolled back) and see the check report it."""

from __future__ import annotations

import pytest

from hotelseed.core.checks import run
from hotelseed.core.db import make_engine
from hotelseed.modules.bookings.checks import params_for
from hotelseed.profile import load_profile
from hotelseed.verify import ALL_CHECKS

# check name → statements that break exactly what the check guards. [table|condition] is the smallest id of
# the table's rows that meet the condition; {FAR}/{PAST} are timestamps; {PLUS60:col} is a date + 60 days.
CORRUPT = {
    "room_type.same_property": ["UPDATE inventories SET property_id = property_id + 1 WHERE id = [inventories|1 = 1]"],
    "room_type.base_rooms": ["UPDATE room_types SET base_rooms = base_rooms + 1 WHERE id = [room_types|1 = 1]"],
    "roles.staff_property_scoped": ["UPDATE user_roles SET scope_type = 'ORG', property_id = NULL, org_id = 1 "
                                    "WHERE id = [user_roles|role_key = 'STAFF_OPS']"],
    "roles.property_staffed": ["DELETE FROM user_roles WHERE id = [user_roles|role_key = 'MANAGER']"],
    "roles.one_superadmin": ["DELETE FROM user_roles WHERE role_key = 'SUPERADMIN'"],
    "members.one_account": ["DELETE FROM user_roles WHERE role_key = 'MEMBER' AND user_id = "
                            "(SELECT user_id FROM loyalty_accounts WHERE id = [loyalty_accounts|1 = 1])"],
    "users.guests_without_account": ["UPDATE user_roles SET role_key = 'GUEST' WHERE role_key = 'MEMBER' AND user_id = "
                                     "(SELECT user_id FROM loyalty_accounts WHERE id = [loyalty_accounts|1 = 1])"],
    "contacts.fictional": ["UPDATE bookings SET email = 'someone@gmail.com' WHERE id = [bookings|1 = 1]"],
    "stays.no_overlap": ["UPDATE stays SET check_out_date = {PLUS60:check_out_date} WHERE id = "
                         "[stays|status = 'CHECKED_OUT']"],
    "stays.per_booking": ["DELETE FROM stays WHERE id = [stays|status = 'CANCELLED']"],
    "stays.status_follows_booking": ["UPDATE stays SET status = 'CONFIRMED' WHERE id = [stays|status = 'CHECKED_OUT']"],
    "stays.room_is_booked_type_or_upgrade": [
        "UPDATE stays SET room_id = (SELECT min(r.id) FROM rooms r JOIN room_types t ON t.id = r.room_type_id "
        "WHERE r.property_id = stays.property_id AND t.rank = 1) WHERE id = (SELECT min(s.id) FROM stays s JOIN room_types "
        "bt ON bt.id = s.room_type_id WHERE bt.rank > 1 AND s.status = 'CANCELLED' AND s.room_id IS NOT NULL)"],
    "stays.guests_fit_room_type": ["UPDATE stays SET num_guests = 9 WHERE id = [stays|status = 'CHECKED_OUT']"],
    "stays.live_have_room": ["UPDATE stays SET room_id = NULL WHERE id = [stays|status = 'CHECKED_OUT']"],
    "bookings.calendar": ["UPDATE bookings SET check_in = '2020-01-01' WHERE id = [bookings|status = 'CONFIRMED']"],
    "bookings.timeline": ["UPDATE bookings SET cancelled_at = {FAR} WHERE id = [bookings|status = 'CANCELLED']"],
    "assignments.by_desk_of_property": [
        "UPDATE room_assignments SET assigned_by = (SELECT user_id FROM user_roles WHERE id = [user_roles|role_key = 'STAFF_OPS']) "
        "WHERE id = [room_assignments|1 = 1]"],
    "assignments.local_times": ["UPDATE bookings SET check_out = {PLUS60:check_out} WHERE id = "
                                "[bookings|status = 'CHECKED_OUT']"],
    "money.settled": ["UPDATE payments SET amount = amount + 1 WHERE id = (SELECT min(p.id) FROM payments p JOIN bookings b "
                      "ON b.id = p.booking_id WHERE b.status = 'CHECKED_OUT' AND p.kind = 'CHARGE')"],
    "money.amounts": ["UPDATE bookings SET commission_amount = commission_amount + 5 WHERE id = [bookings|commission_pct > 0]"],
    "money.payment_times": ["UPDATE payments SET created_at = {FAR}, captured_at = NULL WHERE id = [payments|1 = 1]"],
    "money.ota_paid_by_ota_or_hotel": [
        "UPDATE payments SET method = 'NETBANKING' WHERE id = (SELECT min(p.id) FROM payments p JOIN bookings b ON "
        "b.id = p.booking_id WHERE b.commission_pct > 0)"],
    "money.policy_rates_tax": ["UPDATE stays SET nightly_rates = '[{\"date\": \"2026-01-01\", \"amount\": \"1.00\"}]' "
                               "WHERE id = [stays|1 = 1]"],
    "audit.chain": ["DELETE FROM booking_audit_logs WHERE id = (SELECT max(id) FROM booking_audit_logs WHERE action = 'CHECK_OUT')"],
    "audit.desk_actions_by_staff": ["UPDATE booking_audit_logs SET performed_by = NULL WHERE id = "
                                    "[booking_audit_logs|action = 'CHECK_IN']"],
    "holds.web_bookings": ["DELETE FROM inventory_locks WHERE hold_token = (SELECT hold_token FROM hold_logs WHERE id = [hold_logs|1 = 1])",
                           "DELETE FROM hold_logs WHERE id = [hold_logs|1 = 1]"],
    "inventory.counters": ["UPDATE inventories SET booked = booked + 1 WHERE id = [inventories|1 = 1]"],
    "inventory.overbooking": ["UPDATE inventories SET base_available = base_available + 2 WHERE id = [inventories|1 = 1]"],
    "accounts.metrics_from_bookings": ["UPDATE loyalty_accounts SET lifetime_nights = lifetime_nights + 1 WHERE id = [loyalty_accounts|1 = 1]"],
    "ledger.running_balance": ["UPDATE points_ledger SET balance_before = balance_before + 1, balance_after = balance_after + 1 "
                               "WHERE id = [points_ledger|1 = 1]"],
    "ledger.earn_per_stay": ["DELETE FROM points_ledger WHERE id = [points_ledger|type = 'EARN']"],
    "ledger.earn_amount_and_tier": ["UPDATE points_ledger SET points = points + 1 WHERE id = [points_ledger|type = 'EARN']"],
    "ledger.redemptions_paired": ["DELETE FROM points_ledger WHERE id = [points_ledger|type = 'REDEEM']"],
    "accounts.tier_earned": [
        "UPDATE loyalty_accounts SET tier = 'DIAMOND' WHERE id = (SELECT min(a.id) FROM loyalty_accounts a JOIN tier_history h "
        "ON h.loyalty_account_id = a.id AND h.valid_until IS NULL WHERE a.tier = 'MEMBER' AND h.reason = 'ENROLLMENT')"],
    "tier_history.chain": ["UPDATE tier_history SET from_tier = 'DIAMOND' WHERE id = "
                           "[tier_history|reason = 'AUTO_UPGRADE' AND to_tier <> 'DIAMOND']"],
    "tier_history.upgrades_meet_rule": ["UPDATE tier_history SET points_at_change = 0, stays_at_change = 0, nights_at_change = 0, "
                                        "spend_at_change = 0 WHERE id = [tier_history|reason = 'AUTO_UPGRADE']"],
    "perks.tier_and_booking": ["UPDATE perk_redemptions SET redeemed_at = {FAR} WHERE id = [perk_redemptions|1 = 1]"],
    "referrals.consistent": ["UPDATE referrals SET status = 'EXPIRED' WHERE id = [referrals|referred_id IS NOT NULL]"],
    "transfers.consistent": ["UPDATE tier_transfers SET from_tier = 'GOLD', to_tier = 'PLATINUM' WHERE id = [tier_transfers|1 = 1]"],
    "members.chronology": ["UPDATE loyalty_accounts SET enrolled_at = {FAR} WHERE id = [loyalty_accounts|1 = 1]"],
    "threads.booking_link": ["UPDATE threads SET created_at = {PAST} WHERE id = [threads|booking_id IS NOT NULL]"],
    "threads.links_by_category": ["UPDATE threads SET booking_id = NULL WHERE id = [threads|category = 'BOOKING']"],
    "threads.assignee_at_property": [
        "UPDATE threads SET assigned_to = (SELECT user_id FROM loyalty_accounts WHERE id = [loyalty_accounts|1 = 1]) "
        "WHERE id = [threads|assigned_to IS NOT NULL]"],
    "threads.assignment_rules": [
        "UPDATE threads SET assigned_to = (SELECT r.user_id FROM user_roles r WHERE r.role_key = 'STAFF_OPS' AND "
        "r.property_id = threads.property_id ORDER BY r.id LIMIT 1) WHERE id = [threads|category = 'GENERAL' AND assigned_to IS NOT NULL]"],
    "threads.items_in_window": ["UPDATE message_logs SET created_at = {PAST} WHERE id = [message_logs|thread_id IS NOT NULL]"],
    "threads.lifecycle": ["UPDATE threads SET status = 'RESOLVED', resolved_at = NULL WHERE id = "
                          "[threads|status IN ('IN_PROGRESS','WAITING_FOR_GUEST')]"],
    "threads.derived_fields": ["UPDATE threads SET first_response_at = last_message_at WHERE id = "
                               "[threads|first_response_at < last_message_at]"],
    "suppressions.honoured": ["UPDATE suppressions SET origin_email_id = NULL WHERE id = [suppressions|reason = 'HARD_BOUNCE']"],
    "messages.coherent": ["UPDATE message_logs SET status = 'READ', read_at = created_at WHERE id = [message_logs|channel = 'SMS']"],
    "messages.whatsapp_window": ["UPDATE message_logs SET created_at = {FAR} WHERE id = "
                                 "[message_logs|channel = 'WHATSAPP' AND direction = 'OUTBOUND' AND template_id IS NULL]"],
    "calls.coherent": ["UPDATE call_logs SET duration_sec = duration_sec + 100 WHERE id = [call_logs|status = 'COMPLETED']"],
}

LITERALS = {
    "sqlite": {"FAR": "'2099-01-01 00:00:00.000000'", "PAST": "'2000-01-01 00:00:00.000000'"},
    "postgresql": {"FAR": "'2099-01-01 00:00:00+00'", "PAST": "'2000-01-01 00:00:00+00'"},
}


def render(sql: str, dialect: str) -> str:
    import re

    sql = re.sub(r"\[(\w+)\|([^\]]*)\]", lambda m: f"(SELECT min(id) FROM {m.group(1)} WHERE {m.group(2)})", sql)
    sql = re.sub(r"\{PLUS60:(\w+)\}", (lambda m: f"date({m.group(1)}, '+60 day')") if dialect == "sqlite"
                 else (lambda m: f"({m.group(1)} + 60)"), sql)
    for k, v in LITERALS[dialect].items():
        sql = sql.replace("{" + k + "}", v)
    return sql


def unguard(conn) -> None:
    """Lift the database's own guards inside the transaction, so that the verification is what must catch it."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # foreign-key triggers off
        for table, name in conn.exec_driver_sql(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype IN ('c', 'x') "
                "AND connamespace = 'public'::regnamespace").all():
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    else:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        conn.exec_driver_sql("DROP TRIGGER tr_stays_no_overlap_insert")
        conn.exec_driver_sql("DROP TRIGGER tr_stays_no_overlap_update")


def test_every_check_has_a_corruption():
    assert sorted(CORRUPT) == sorted(c.name for c in ALL_CHECKS)


def violations_after(url: str, check, statements: list[str]) -> int:
    """Run `statements` (rendered for the engine) on the seeded data inside a transaction that is rolled back,
    and return how many violations `check` then finds; the data must pass the check before."""
    engine = make_engine(url)
    with engine.connect() as conn:
        with conn.begin() as tx:
            params = params_for(conn)
            params["_profile"] = load_profile()
            assert run(conn, [check], params).ok, "the seeded data must pass before it is corrupted"
            unguard(conn)
            for sql in statements:
                sql = render(sql, conn.dialect.name)
                assert conn.exec_driver_sql(sql).rowcount >= 1, sql
            outcome = run(conn, [check], params).outcomes[0]
            tx.rollback()
    return outcome.violations


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.name)
def test_check_reports_corruption(small_dataset, check):
    url, _ = small_dataset
    assert violations_after(url, check, CORRUPT[check.name]) >= 1, f"{check.name} did not notice: {CORRUPT[check.name]}"


# More ways to break the checks that compute in SQL what they once computed in Python (each field they derive,
# each kind of send a suppression forbids) or that were rewritten for speed (each branch of the audit chain, the
# cancellation fee on the first night): (check, statements), rendered as above; {JSON:...} and
# {MSG_CHANNEL:...} cast a text expression to the column's type on PostgreSQL.
MORE_CORRUPTIONS = [
    ("audit.chain", ["DELETE FROM booking_audit_logs WHERE booking_id = [bookings|1 = 1]"]),
    ("audit.chain", ["UPDATE booking_audit_logs SET action = 'NOTE' WHERE id = [booking_audit_logs|action = 'CREATE']"]),
    ("audit.chain", ["UPDATE booking_audit_logs SET created_at = {PAST} WHERE id = [booking_audit_logs|action = 'CREATE']"]),
    ("audit.chain", ["UPDATE booking_audit_logs SET from_status = 'HOLD' WHERE id = "
                     "[booking_audit_logs|action = 'CHECK_OUT']"]),
    # The per-night tax alone (the total kept equal to net + tax, so only the slab rule can see it).
    ("money.policy_rates_tax", ["UPDATE bookings SET tax_amount = tax_amount + 0.01, total_price = total_price + 0.01 "
                                "WHERE id = [bookings|tax_amount > 0]"]),
    ("money.policy_rates_tax", ["UPDATE bookings SET cancellation_fee = cancellation_fee + 1 WHERE id = "
                                "[bookings|status = 'CANCELLED' AND cancellation_fee > 0 AND cancellation_policy_id IN "
                                "(SELECT id FROM cancellation_policies WHERE penalty_basis = 'FIRST_NIGHT')]"]),
    # bookings.calendar and assignments.local_times are SQL on PostgreSQL and NumPy on SQLite: each rule, on both.
    ("bookings.calendar", ["UPDATE bookings SET created_at = {FAR} WHERE id = [bookings|status = 'CANCELLED']"]),
    ("bookings.calendar", ["UPDATE bookings SET created_at = {PAST} WHERE id = [bookings|source = 'WALK_IN']"]),
    ("bookings.calendar", ["UPDATE bookings SET status = 'HOLD', hold_expires_at = NULL WHERE id = "
                           "[bookings|status = 'CANCELLED']"]),
    ("bookings.calendar", ["UPDATE bookings SET status = 'CHECKED_OUT', checked_out_at = NULL WHERE id = "
                           "[bookings|status = 'CANCELLED']"]),
    ("bookings.calendar", ["UPDATE bookings SET status = 'CHECKED_IN' WHERE id = [bookings|status = 'CHECKED_OUT']"]),
    ("bookings.calendar", ["UPDATE bookings SET status = 'NO_SHOW' WHERE id = [bookings|status = 'CONFIRMED']"]),
    ("assignments.local_times", ["UPDATE bookings SET checked_in_at = {PAST} WHERE id = [bookings|status = 'CHECKED_OUT']"]),
    ("stays.per_booking", ["UPDATE stays SET check_out_date = {PLUS60:check_out_date} WHERE id = [stays|status = 'CANCELLED']"]),
    ("stays.per_booking", ["UPDATE bookings SET rooms = rooms + 1 WHERE id = [bookings|1 = 1]"]),
    # contacts.fictional lists rows only when its counting pass found one to list: each way a row can be wrong.
    ("contacts.fictional", ["UPDATE message_logs SET phone = '+14155552671' WHERE id = [message_logs|phone IS NOT NULL]"]),
    ("contacts.fictional", ["UPDATE booking_guests SET phone = '+910123456a78' WHERE id = [booking_guests|phone IS NOT NULL]"]),
    ("contacts.fictional", ["UPDATE contacts SET email = 'nobody' WHERE id = [contacts|email IS NOT NULL]"]),
    # .localhost is reserved (RFC 6761) but resolves to this machine: not a domain seeded mail may use.
    ("contacts.fictional", ["UPDATE bookings SET email = 'someone@localhost' WHERE id = [bookings|1 = 1]"]),
    ("contacts.fictional", ["UPDATE contacts SET email = 'x@mail.localhost' WHERE id = [contacts|email IS NOT NULL]"]),
    ("threads.derived_fields", ["UPDATE threads SET sla_breached = NOT sla_breached WHERE id = [threads|1 = 1]"]),
    ("threads.derived_fields", ["UPDATE threads SET first_response_at = NULL WHERE id = "
                                "[threads|first_response_at IS NOT NULL]"]),
    ("suppressions.honoured", [
        "UPDATE emails SET to_emails = {JSON:(SELECT '[\"' || address || '\"]' FROM suppressions WHERE reason = "
        "'HARD_BOUNCE' ORDER BY id LIMIT 1)}, created_at = {FAR} WHERE id = [emails|direction = 'OUTBOUND']"]),
    ("suppressions.honoured", [
        "UPDATE message_logs SET phone = (SELECT address FROM suppressions WHERE reason = 'UNSUBSCRIBE' AND channel <> "
        "'EMAIL' ORDER BY id LIMIT 1), channel = {MSG_CHANNEL:(SELECT CAST(channel AS VARCHAR(16)) FROM suppressions "
        "WHERE reason = 'UNSUBSCRIBE' AND channel <> 'EMAIL' ORDER BY id LIMIT 1)}, created_at = {FAR} "
        "WHERE id = [message_logs|direction = 'OUTBOUND']"]),
]


def _casts(sql: str, dialect: str) -> str:
    import re

    casts = {"JSON": "JSONB", "MSG_CHANNEL": "message_channel"}
    return re.sub(r"\{(JSON|MSG_CHANNEL):(.*?)\}(?=,| WHERE)",
                  lambda m: f"CAST({m.group(2)} AS {casts[m.group(1)]})" if dialect == "postgresql" else m.group(2), sql)


@pytest.mark.parametrize("case", range(len(MORE_CORRUPTIONS)), ids=lambda i: f"{MORE_CORRUPTIONS[i][0]}-{i}")
def test_check_reports_more_corruptions(small_dataset, case):
    name, statements = MORE_CORRUPTIONS[case]
    (check,) = [c for c in ALL_CHECKS if c.name == name]
    url, _ = small_dataset
    dialect = make_engine(url).dialect.name
    assert violations_after(url, check, [_casts(sql, dialect) for sql in statements]) >= 1, \
        f"{name} did not notice: {statements}"
