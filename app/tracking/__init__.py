"""Tracking: registering shipments, polling carriers, pushed carrier webhooks, and the one path every
tracking update takes (`app.tracking.updates`)."""
