"""Shop API for notifications: webhook endpoints (CRUD, rotate, test, deliveries, replay),
the shop's trigger settings and a shipment customer's preferences."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.api.auth import require_api_key
from app.api.idempotency import idempotent
from app.api.notification_schemas import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    EndpointWithSecretSchema,
    PreferenceSchema,
    RotateSchema,
    SettingsSchema,
    TestResultSchema,
)
from app.api.problems import ApiProblem
from app.extensions import db
from app.models import (
    Notification,
    Shipment,
    ShopNotificationSettings,
    WebhookEndpoint,
)
from app.models.notification import OPEN_STATES, OutboxState
from app.models.types import utcnow
from app.notify.channel_settings import parse_clock
from app.notify.dispatch import deliver_now, replay
from app.notify.preferences import IncompleteQuietHours, preference_view, save_preference
from app.notify.settings import shop_settings
from notifications.errors import DestinationRefused, RetryableSendError
from notifications.webhooks import build_test_event, check_destination

bp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1",
    description="Webhook endpoints and customer notifications",
)
bp.before_request(require_api_key)


def _own_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.shop_id != g.shop.id or endpoint.deleted_at is not None:
        raise ApiProblem(404, "Not Found", f"No webhook endpoint {endpoint_id}.", kind="not-found")
    return endpoint


def _own_shipment(shipment_id: int) -> Shipment:
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.shop_id != g.shop.id or shipment.deleted_at is not None:
        raise ApiProblem(404, "Not Found", f"No shipment {shipment_id}.", kind="not-found")
    return shipment


def _check_url(url: str) -> None:
    """The SSRF guard at registration: private, loopback and link-local targets are refused."""
    try:
        check_destination(url, current_app.config["WEBHOOKS_ALLOW_PRIVATE"])
    except (DestinationRefused, RetryableSendError) as exc:
        raise ApiProblem(
            422, "Webhook URL refused", exc.message, kind="validation", errors={"url": [exc.message]}
        ) from exc


@bp.route("/webhook-endpoints")
class EndpointCollection(MethodView):
    @bp.response(200, EndpointSchema(many=True))
    def get(self):
        """The shop's webhook endpoints."""
        return db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.shop_id == g.shop.id, WebhookEndpoint.deleted_at.is_(None))
            .order_by(WebhookEndpoint.id)
        ).all()

    @idempotent
    @bp.arguments(EndpointCreateSchema)
    @bp.response(201, EndpointWithSecretSchema)
    def post(self, data: dict):
        """Register an endpoint; the answer carries its signing secret (shown only now and on rotation)."""
        _check_url(data["url"])
        endpoint = WebhookEndpoint(
            shop_id=g.shop.id, secret=WebhookEndpoint.new_secret(), enabled=True, **data
        )
        db.session.add(endpoint)
        db.session.flush()
        return endpoint


@bp.route("/webhook-endpoints/<int:endpoint_id>")
class EndpointItem(MethodView):
    @bp.response(200, EndpointSchema)
    def get(self, endpoint_id: int):
        """One endpoint."""
        return _own_endpoint(endpoint_id)

    @bp.arguments(EndpointUpdateSchema)
    @bp.response(200, EndpointSchema)
    def patch(self, data: dict, endpoint_id: int):
        """Change the URL, description, event types, or enable/disable the endpoint."""
        endpoint = _own_endpoint(endpoint_id)
        if "url" in data:
            _check_url(data["url"])
        for name, value in data.items():
            setattr(endpoint, name, value)
        if data.get("enabled"):
            endpoint.disabled_reason = None
        db.session.commit()
        return endpoint

    @bp.response(204)
    def delete(self, endpoint_id: int):
        """Delete the endpoint; its undelivered events are cancelled, the delivery log is kept."""
        endpoint = _own_endpoint(endpoint_id)
        endpoint.deleted_at = utcnow()
        endpoint.enabled = False
        db.session.commit()


@bp.route("/webhook-endpoints/<int:endpoint_id>/rotate-secret")
class EndpointRotate(MethodView):
    @idempotent
    @bp.arguments(RotateSchema)
    @bp.response(200, EndpointWithSecretSchema)
    def post(self, data: dict, endpoint_id: int):
        """New signing secret; events are signed with both until the previous one expires."""
        endpoint = _own_endpoint(endpoint_id)
        hours = data["overlap_hours"]
        if hours is None:
            hours = current_app.config["WEBHOOK_SECRET_OVERLAP_HOURS"]
        now = utcnow()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + timedelta(hours=hours)
        endpoint.secret = WebhookEndpoint.new_secret()
        endpoint.secret_rotated_at = now
        return endpoint


@bp.route("/webhook-endpoints/<int:endpoint_id>/test")
class EndpointTest(MethodView):
    @bp.response(200, TestResultSchema)
    def post(self, endpoint_id: int):
        """Send a `webhook.test` event now and answer with the outcome (it is in the delivery log too)."""
        endpoint = _own_endpoint(endpoint_id)
        event = build_test_event(utcnow())
        row = Notification(
            dedupe_key=f"test:{event.event_id}:{endpoint.id}",
            shop_id=g.shop.id,
            endpoint_id=endpoint.id,
            channel="webhook",
            trigger="test",
            recipient=endpoint.url,
            body_text=event.body.decode(),
            event_id=event.event_id,
            event_type=event.event_type,
            state=OutboxState.PENDING.value,
            attempts=0,
            next_attempt_at=utcnow(),
        )
        db.session.add(row)
        db.session.commit()
        sent = deliver_now(row.id)
        return {"delivered": sent.state == OutboxState.SENT.value, "delivery": sent}


@bp.route("/webhook-endpoints/<int:endpoint_id>/deliveries")
class EndpointDeliveries(MethodView):
    @bp.arguments(DeliveryQuerySchema, location="query")
    @bp.response(200, DeliveryPageSchema)
    def get(self, args: dict, endpoint_id: int):
        """The endpoint's deliveries, newest first, with every attempt."""
        endpoint = _own_endpoint(endpoint_id)
        query = select(Notification).where(Notification.endpoint_id == endpoint.id)
        if "state" in args:
            query = query.where(Notification.state == args["state"])
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page, per_page = args["page"], args["per_page"]
        items = db.session.scalars(
            query.options(selectinload(Notification.attempt_log))
            .order_by(Notification.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        return {"items": items, "page": page, "per_page": per_page, "total": total}


@bp.route("/webhook-endpoints/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
class DeliveryReplay(MethodView):
    @bp.response(202, DeliverySchema)
    @bp.alt_response(409, response="CONFLICT")
    def post(self, endpoint_id: int, delivery_id: int):
        """Send a delivery again (same event id, fresh signature) with a fresh retry budget."""
        endpoint = _own_endpoint(endpoint_id)
        row = db.session.get(Notification, delivery_id)
        if row is None or row.endpoint_id != endpoint.id:
            raise ApiProblem(
                404, "Not Found", f"No delivery {delivery_id} for this endpoint.", kind="not-found"
            )
        if row.state in {state.value for state in OPEN_STATES}:
            raise ApiProblem(
                409, "Already queued", "This delivery is still being attempted.", kind="conflict"
            )
        replay(row)
        db.session.commit()
        return row


def _settings_view(settings: ShopNotificationSettings) -> dict:
    return {
        "triggers": settings.triggers,
        "channels": settings.channels,
        "quiet_start": settings.quiet_start.strftime("%H:%M"),
        "quiet_end": settings.quiet_end.strftime("%H:%M"),
        "urgent_triggers": settings.urgent_triggers,
        "survey_url": settings.survey_url,
        "survey_delay_hours": settings.survey_delay_hours,
        "pickup_reminder_hours": settings.pickup_reminder_hours,
    }


@bp.route("/notification-settings")
class Settings(MethodView):
    @bp.response(200, SettingsSchema)
    def get(self):
        """Which triggers message customers, on which channels, and the default quiet hours."""
        return _settings_view(shop_settings(g.shop.id))

    @bp.arguments(SettingsSchema)
    @bp.response(200, SettingsSchema)
    def put(self, data: dict):
        """Change any of the settings; fields left out keep their value."""
        settings = shop_settings(g.shop.id)
        for name in ("quiet_start", "quiet_end"):
            if name in data:
                data[name] = parse_clock(data[name])
        for name, value in data.items():
            setattr(settings, name, value)
        db.session.add(settings)
        db.session.commit()
        return _settings_view(settings)


@bp.route("/shipments/<int:shipment_id>/notification-preferences")
class Preferences(MethodView):
    @bp.response(200, PreferenceSchema)
    def get(self, shipment_id: int):
        """The customer's choices for this shipment (null: the shop's default) and unsubscribed channels."""
        return preference_view(_own_shipment(shipment_id))

    @bp.arguments(PreferenceSchema)
    @bp.response(200, PreferenceSchema)
    def put(self, data: dict, shipment_id: int):
        """Set the customer's channels, language or quiet hours; fields left out keep their value."""
        shipment = _own_shipment(shipment_id)
        try:
            save_preference(shipment, data)
        except IncompleteQuietHours as exc:
            raise ApiProblem(
                422,
                "Incomplete quiet hours",
                exc.message,
                kind="validation",
                errors={exc.field: [exc.message]},
            ) from exc
        db.session.commit()
        return preference_view(shipment)
