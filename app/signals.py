"""Domain events other parts of the service react to (notifications, claims, dashboard)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sent with (shipment, previous_status=str, source=str) after a shipment's status changed, before commit
shipment_status_changed = _signals.signal("shipment-status-changed")

#: sent with (shipment, previous_state=str | None) when the prediction moves a shipment's risk state
risk_state_changed = _signals.signal("risk-state-changed")
