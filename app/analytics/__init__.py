"""Staff analytics and operations figures: SQL aggregates over shipments, events, claims and the outbox,
and the inline SVG charts that show them (no JavaScript, no foreign origin)."""
