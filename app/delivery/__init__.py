"""Delivery options: checkout offers, slot reservations, depot days, own-fleet set-up, re-planning."""
