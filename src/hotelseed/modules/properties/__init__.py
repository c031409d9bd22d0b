"""Properties and catalogue: brands, properties, room types, rooms, cancellation policies, rate plans."""
