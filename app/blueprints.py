"""Every blueprint the service serves, in one visible list."""

from __future__ import annotations

from app.api import claim_stats, claims, delivery, fleet, notifications, shipments
from app.web import (
    carrier_webhooks,
    health,
    outbox,
    risk_report,
    route_plans,
    staff,
    staff_auth,
    staff_claims,
    tracking,
    tracking_claims,  # noqa: F401  (its "Report a problem" routes join tracking.bp)
    unsubscribe,
)

#: the shop API (`/api/v1`), documented in the OpenAPI document
API_BLUEPRINTS = (shipments.bp, notifications.bp, delivery.bp, fleet.bp, claims.bp, claim_stats.bp)

#: pages and machine endpoints outside the shop API
WEB_BLUEPRINTS = (
    health.bp,
    carrier_webhooks.bp,
    staff_auth.bp,
    staff.bp,
    outbox.bp,
    staff_claims.bp,
    risk_report.bp,
    route_plans.bp,
    unsubscribe.bp,
    tracking.bp,
)

#: carrier webhooks are signed; RFC 8058 one-click unsubscribe POSTs come from mail providers (the token
#: authorises)
CSRF_EXEMPT_WEB_BLUEPRINTS = (carrier_webhooks.bp, unsubscribe.bp)
