"""Catalogue invariants (platform.md §4.1 inv. 1-2)."""

from hotelseed.core.checks import Check

M = "properties"
CHECKS = [
    Check("room_type.same_property", "§4.1 inv. 1", M,
          "rooms, rate plans, bookings, stays, inventories and holds belong to their room type's property",
          "SELECT (SELECT count(*) FROM rooms) + (SELECT count(*) FROM rate_plans) + (SELECT count(*) FROM bookings)"
          " + (SELECT count(*) FROM stays) + (SELECT count(*) FROM inventories) + (SELECT count(*) FROM hold_logs)",
          "SELECT 'room:' || x.id FROM rooms x JOIN room_types t ON t.id = x.room_type_id WHERE t.property_id <> x.property_id "
          "UNION ALL SELECT 'rate_plan:' || x.id FROM rate_plans x JOIN room_types t ON t.id = x.room_type_id WHERE t.property_id <> x.property_id "
          "UNION ALL SELECT 'booking:' || x.id FROM bookings x JOIN room_types t ON t.id = x.room_type_id WHERE t.property_id <> x.property_id "
          "UNION ALL SELECT 'stay:' || x.id FROM stays x JOIN room_types t ON t.id = x.room_type_id WHERE t.property_id <> x.property_id "
          "UNION ALL SELECT 'stay-room:' || x.id FROM stays x JOIN rooms r ON r.id = x.room_id WHERE r.property_id <> x.property_id "
          "UNION ALL SELECT 'inventory:' || x.id FROM inventories x JOIN room_types t ON t.id = x.room_type_id WHERE t.property_id <> x.property_id "
          "UNION ALL SELECT 'hold:' || x.id FROM hold_logs x JOIN room_types t ON t.id = x.room_type_id WHERE t.property_id <> x.property_id"),
    Check("room_type.base_rooms", "§4.1 inv. 2", M, "room_types.base_rooms = the number of its rooms",
          "SELECT count(*) FROM room_types",
          "SELECT t.id FROM room_types t WHERE t.base_rooms <> (SELECT count(*) FROM rooms r WHERE r.room_type_id = t.id)"),
]
