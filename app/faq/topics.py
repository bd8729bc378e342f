"""Which questions fit a parcel: its status and reasons (the carrier's and the prediction's) name topics.

Statuses and reasons that mean the same to a customer share a topic (the carrier's `customs` reason and
the prediction's `customs_hold` are both "customs"), so a question never shows twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from carriers.model import Reason, Status

#: every topic with the words staff see in the editor, in the order the editor lists them
TOPICS = {
    "not_moving_yet": "Registered, not moving yet (pending, info received; no scan since handoff)",
    "in_transit": "On its way (in transit)",
    "delayed": "Running late (carrier delay, weather, promised day passed, no scans, lane late)",
    "customs": "Customs hold",
    "out_for_delivery": "Out for delivery",
    "failed_attempt": "Delivery attempt failed (recipient not at home)",
    "address_problem": "Problem with the address",
    "available_for_pickup": "Ready for pickup at a pickup point",
    "delivered": "Delivered (also: delivered but not received)",
    "exception": "Problem with the delivery (exception)",
    "damaged": "Carrier reports the parcel damaged",
    "lost": "Carrier reports the parcel lost",
    "returning": "On its way back to the sender (also: refused)",
    "returned": "Returned to the sender",
    "cancelled": "Shipment cancelled",
    "expired": "No longer tracked (expired)",
}

STATUS_TOPICS = {
    Status.PENDING: "not_moving_yet",
    Status.INFO_RECEIVED: "not_moving_yet",
    Status.UNKNOWN: "not_moving_yet",
    Status.IN_TRANSIT: "in_transit",
    Status.OUT_FOR_DELIVERY: "out_for_delivery",
    Status.FAILED_ATTEMPT: "failed_attempt",
    Status.AVAILABLE_FOR_PICKUP: "available_for_pickup",
    Status.DELIVERED: "delivered",
    Status.EXCEPTION: "exception",
    Status.RETURNING: "returning",
    Status.RETURNED: "returned",
    Status.CANCELLED: "cancelled",
    Status.EXPIRED: "expired",
}

#: the prediction's reason keys (planning/prediction/reasons.py) and the carrier's reasons (carriers.model)
REASON_TOPICS = {
    "customs_hold": "customs",
    Reason.CUSTOMS.value: "customs",
    "carrier_delay": "delayed",
    Reason.WEATHER.value: "delayed",
    "past_promised_day": "delayed",
    "expected_after_promise": "delayed",
    "lane_running_late": "delayed",
    "delay_likely": "delayed",
    "far_from_destination": "delayed",
    "no_scan_for_hours": "delayed",
    "no_progress": "delayed",
    "no_scan_since_handoff": "not_moving_yet",
    "failed_attempt": "failed_attempt",
    Reason.RECIPIENT_UNAVAILABLE.value: "failed_attempt",
    Reason.ADDRESS_PROBLEM.value: "address_problem",
    "awaiting_collection": "available_for_pickup",
    "carrier_damaged": "damaged",
    Reason.DAMAGED.value: "damaged",
    "carrier_lost": "lost",
    Reason.LOST.value: "lost",
    Reason.REFUSED.value: "returning",
    "returning": "returning",
    "returned": "returned",
    "cancelled": "cancelled",
    "expired": "expired",
    "exception": "exception",
}


def topics_for(status: str, carrier_reason: str | None, risk_reasons: Iterable[dict] | None) -> list[str]:
    """The parcel's topics, most specific first: what the reasons say, then what the status says."""
    keys = [carrier_reason, *(r.get("key") for r in risk_reasons or () if isinstance(r, dict))]
    found = [REASON_TOPICS[key] for key in keys if key in REASON_TOPICS]
    if status in STATUS_TOPICS:
        found.append(STATUS_TOPICS[status])
    return list(dict.fromkeys(found))
