"""Every blueprint the service serves, in one visible list."""

from __future__ import annotations

from app.api import claim_stats, claims, delivery, fleet, notifications, shipments
from app.web import (
    api_docs,
    branding,
    carrier_webhooks,
    front_door,  # noqa: F401  (the start page `/` joins tracking.bp)
    health,
    outbox,
    risk_report,
    route_plans,
    staff,
    staff_admin,
    staff_analytics,
    staff_auth,
    staff_branding,  # noqa: F401  (its branding page joins staff_admin.bp)
    staff_cases,
    staff_claims,
    staff_customers,
    staff_faq,
    staff_operations,
    staff_queue,
    staff_survey,
    survey,
    tracking,
    tracking_claims,  # noqa: F401  (its "Report a problem" routes join tracking.bp)
    tracking_contact,  # noqa: F401  (its "Contact us" routes join tracking.bp)
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
    staff_queue.bp,
    staff_customers.bp,
    staff_cases.bp,
    staff_faq.bp,
    staff_survey.bp,
    risk_report.bp,
    staff_analytics.bp,
    staff_operations.bp,
    staff_admin.bp,
    route_plans.bp,
    unsubscribe.bp,
    survey.bp,
    tracking.bp,
    branding.bp,
    api_docs.bp,
)

#: carrier webhooks are signed; RFC 8058 one-click unsubscribe POSTs come from mail providers (the token
#: authorises)
CSRF_EXEMPT_WEB_BLUEPRINTS = (carrier_webhooks.bp, unsubscribe.bp)
