"""Staff administration (admins only): staff accounts, each shop's settings, API keys, webhook endpoints
and message texts, carrier credentials (operator admins), and the admins' own second factor.

Objects are named by form fields and query parameters (`shop`, `user_id`, `key_id`, ...), and every one
is looked up in the admin's shop scope: another shop's object is a 404. Plain API keys and webhook
secrets appear once, in the answer to the POST that made them, which no cache may keep.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import select

from app.admin import totp
from app.admin.credentials import (
    CREDENTIAL_FIELDS,
    clear_credentials,
    credential_overview,
    forget_clients,
    save_credentials,
)
from app.admin.errors import AdminError
from app.admin.message_templates import (
    TRIGGERS,
    delete_template,
    editor_source,
    preview_template,
    save_template,
    shop_templates,
)
from app.admin.shop_access import (
    create_endpoint,
    create_key,
    revoke_key,
    set_endpoint_enabled,
    shop_endpoints,
    shop_keys,
)
from app.admin.shop_settings import SENDER_FIELDS, ShopChanges, update_shop
from app.admin.staff_users import (
    bind_to_shop,
    change_role,
    create_user,
    managed_user,
    reset_password,
    set_disabled,
    visible_users,
)
from app.extensions import db, limiter
from app.input_guard import parse_id
from app.models import ApiKey, Role, Shop, StaffUser, WebhookEndpoint
from app.models.types import utcnow
from app.notify.settings import shop_settings
from app.web.staff_auth import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    SECOND_FACTOR_KEY,
    in_staff_shop,
    public,
    staff_required,
    visible_or_404,
)
from carriers.registry import CARRIERS
from notifications.render import LANGUAGES

bp = Blueprint("staff_admin", __name__, url_prefix="/staff")
log = logging.getLogger(__name__)
SECOND_FACTOR_SECONDS = 300
ROLES = [role.value for role in Role]


def _no_store(body: str, status: int = 200):
    """A page that carries a secret: never cached, never stored by the browser."""
    return body, status, {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _audit(what: str, *args) -> None:
    log.info("staff admin %s: " + what, current_user.email, *args)


def _shops() -> list[Shop]:
    return list(db.session.scalars(in_staff_shop(select(Shop), Shop.id).order_by(Shop.name)))


def _shop(value: str | None) -> Shop:
    """The shop named by `value` within the admin's scope (404 otherwise); a shop-bound admin's own."""
    shop_id = parse_id(value or "")
    if shop_id is None and current_user.shop_id is not None:
        shop_id = current_user.shop_id
    if shop_id is None:
        abort(404)
    return visible_or_404(db.session.get(Shop, shop_id), shop_id)


def _form_id(name: str) -> int | None:
    return parse_id(request.form.get(name, ""))


@bp.get("/admin/")
@staff_required(Role.ADMIN)
def index():
    """The shops this admin manages and the other admin pages."""
    return render_template("staff/admin/index.html", shops=_shops())


# --- staff accounts -------------------------------------------------------------------------------------


def _users_page(status: int = 200, error: AdminError | None = None):
    return (
        render_template(
            "staff/admin/users.html",
            users=visible_users(current_user),
            shops=_shops(),
            shop_names={shop.id: shop.name for shop in _shops()},
            roles=ROLES,
            error=error,
            form=request.form if error else {},
        ),
        status,
    )


@bp.get("/admin/users")
@staff_required(Role.ADMIN)
def users():
    """Every account this admin manages, with its role, shop, state and the actions on it."""
    return _users_page()


@bp.post("/admin/users")
@staff_required(Role.ADMIN)
def create_staff():
    """A new account (password policy: 12+ characters, not the email, not a common password)."""
    form = request.form
    try:
        user = create_user(
            current_user,
            form.get("email", ""),
            form.get("password", ""),
            form.get("role", Role.VIEWER.value),
            parse_id(form.get("shop_id", "")),
        )
    except AdminError as error:
        return _users_page(400, error)
    db.session.commit()
    _audit("created %s (%s, shop %s)", user.email, user.role, user.shop_id)
    flash(f"Account {user.email} created.", "success")
    return redirect(url_for("staff_admin.users"))


def _change_user(change, done: str):
    """Apply `change(user)` to the account named by the form's `user_id`, then back to the list."""
    user = managed_user(current_user, _form_id("user_id"))
    if user is None:
        abort(404)
    try:
        change(user)
    except AdminError as error:
        db.session.rollback()
        return _users_page(400, error)
    db.session.commit()
    _audit("%s: %s", user.email, done)
    flash(f"{user.email}: {done}.", "success")
    return redirect(url_for("staff_admin.users"))


@bp.post("/admin/users/role")
@staff_required(Role.ADMIN)
def set_role():
    """Give an account another role."""
    role = request.form.get("role", "")
    return _change_user(lambda user: change_role(current_user, user, role), f"role is now {role}")


@bp.post("/admin/users/disable")
@staff_required(Role.ADMIN)
def disable_staff():
    """Disable an account: no login, and every session of it ends."""
    return _change_user(lambda user: set_disabled(current_user, user, True), "disabled, sessions ended")


@bp.post("/admin/users/enable")
@staff_required(Role.ADMIN)
def enable_staff():
    """Let a disabled account log in again."""
    return _change_user(lambda user: set_disabled(current_user, user, False), "enabled")


@bp.post("/admin/users/password")
@staff_required(Role.ADMIN)
def reset_staff_password():
    """Set a new password; every session of the account ends."""
    password = request.form.get("password", "")
    return _change_user(
        lambda user: reset_password(current_user, user, password), "new password set, sessions ended"
    )


@bp.post("/admin/users/shop")
@staff_required(Role.ADMIN)
def bind_staff():
    """Bind an account to one shop (or, for the operator's admins, to every shop)."""
    shop_id = parse_id(request.form.get("shop_id", ""))
    return _change_user(
        lambda user: bind_to_shop(current_user, user, shop_id), f"shop is now {shop_id or 'every shop'}"
    )


# --- one shop: settings, API keys, webhook endpoints -----------------------------------------------------


def _shop_page(shop: Shop, status: int = 200, error: AdminError | None = None, **shown):
    settings = shop_settings(shop.id)
    page = render_template(
        "staff/admin/shop.html",
        shop=shop,
        settings=settings,
        keys=shop_keys(shop),
        endpoints=shop_endpoints(shop),
        languages=LANGUAGES,
        sender_fields=SENDER_FIELDS,
        error=error,
        form=request.form if error else {},
        **shown,
    )
    return _no_store(page, status) if shown else (page, status)


@bp.get("/admin/shop")
@staff_required(Role.ADMIN)
def shop():
    """One shop's settings, API keys and webhook endpoints (`?shop=ID`; a shop-bound admin's own)."""
    if parse_id(request.args.get("shop", "")) is None and current_user.shop_id is None:
        return redirect(url_for("staff_admin.index"))
    return _shop_page(_shop(request.args.get("shop")))


@bp.post("/admin/shop/settings")
@staff_required(Role.ADMIN)
def save_shop():
    """Store the shop's name, default language and time zone, claims email, sender and survey link."""
    shop = _shop(request.form.get("shop_id"))
    form = request.form
    try:
        delay = int(form.get("survey_delay_hours", "24") or 24)
    except ValueError:
        return _shop_page(shop, 400, AdminError("Hours are a whole number.", "survey_delay_hours"))
    changes = ShopChanges(
        name=form.get("name", ""),
        default_language=form.get("default_language", ""),
        default_timezone=form.get("default_timezone", ""),
        claims_email=form.get("claims_email", ""),
        survey_url=form.get("survey_url", ""),
        survey_delay_hours=delay,
        sender={key: form.get(f"sender_{key}", "") for key in SENDER_FIELDS},
    )
    try:
        update_shop(shop, changes)
    except AdminError as error:
        db.session.rollback()
        return _shop_page(db.session.get(Shop, shop.id), 400, error)
    db.session.commit()
    _audit("saved the settings of shop %s", shop.id)
    flash("Settings saved.", "success")
    return redirect(url_for("staff_admin.shop", shop=shop.id))


@bp.post("/admin/api-keys")
@staff_required(Role.ADMIN)
def new_key():
    """A new API key for the shop; the answer shows the plain key, once."""
    shop = _shop(request.form.get("shop_id"))
    try:
        key, plain = create_key(shop, request.form.get("label", ""))
    except AdminError as error:
        return _shop_page(shop, 400, error)
    db.session.commit()
    _audit("created API key %s (%s) of shop %s", key.id, key.prefix, shop.id)
    return _shop_page(shop, 201, new_key=plain, new_key_label=key.name)


@bp.post("/admin/api-keys/revoke")
@staff_required(Role.ADMIN)
def revoke():
    """Revoke a key: the API answers 401 to it from now on."""
    key = visible_or_404(db.session.get(ApiKey, _form_id("key_id") or 0))
    revoke_key(key)
    db.session.commit()
    _audit("revoked API key %s of shop %s", key.id, key.shop_id)
    flash(f"Key “{key.name}” revoked.", "success")
    return redirect(url_for("staff_admin.shop", shop=key.shop_id))


@bp.post("/admin/webhooks")
@staff_required(Role.ADMIN)
def new_endpoint():
    """A new webhook endpoint (URL checked by the SSRF guard); the answer shows its secret, once."""
    shop = _shop(request.form.get("shop_id"))
    try:
        endpoint = create_endpoint(
            shop,
            request.form.get("url", ""),
            request.form.get("description", ""),
            current_app.config["WEBHOOKS_ALLOW_PRIVATE"],
        )
    except AdminError as error:
        return _shop_page(shop, 400, error)
    db.session.commit()
    _audit("created webhook endpoint %s of shop %s", endpoint.id, shop.id)
    return _shop_page(shop, 201, new_secret=endpoint.secret, new_endpoint_url=endpoint.url)


@bp.post("/admin/webhooks/enabled")
@staff_required(Role.ADMIN)
def toggle_endpoint():
    """Enable (`enabled=1`) or disable an endpoint."""
    endpoint = visible_or_404(db.session.get(WebhookEndpoint, _form_id("endpoint_id") or 0))
    if endpoint.deleted_at is not None:
        abort(404)
    enabled = request.form.get("enabled") == "1"
    set_endpoint_enabled(endpoint, enabled, current_user.email)
    db.session.commit()
    _audit("%s webhook endpoint %s", "enabled" if enabled else "disabled", endpoint.id)
    flash(f"Endpoint {endpoint.url} {'enabled' if enabled else 'disabled'}.", "success")
    return redirect(url_for("staff_admin.shop", shop=endpoint.shop_id))


# --- message texts ---------------------------------------------------------------------------------------


def _template_page(shop: Shop, trigger: str, language: str, source: str, own: bool, status=200, **extra):
    return (
        render_template(
            "staff/admin/templates.html",
            shop=shop,
            trigger=trigger,
            language=language,
            source=source,
            own=own,
            triggers=TRIGGERS,
            languages=LANGUAGES,
            own_texts=sorted(shop_templates(shop.id)),
            **extra,
        ),
        status,
    )


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    if value is None:
        return allowed[0]
    if value not in allowed:
        abort(404)
    return value


@bp.get("/admin/templates")
@staff_required(Role.ADMIN)
def templates():
    """The shop's message texts: which it changed, and the editor for one message in one language."""
    if parse_id(request.args.get("shop", "")) is None and current_user.shop_id is None:
        return redirect(url_for("staff_admin.index"))
    shop = _shop(request.args.get("shop"))
    trigger = _choice(request.args.get("trigger"), TRIGGERS)
    language = _choice(request.args.get("language"), LANGUAGES)
    source, own = editor_source(shop, trigger, language)
    return _template_page(shop, trigger, language, source, own)


@bp.post("/admin/templates")
@staff_required(Role.ADMIN)
def edit_template():
    """`action=preview` renders the text for a sample parcel; `save` stores it after the same check;
    `revert` goes back to the shipped text. A text that does not render is refused with the reason."""
    shop = _shop(request.form.get("shop_id"))
    trigger = _choice(request.form.get("trigger", ""), TRIGGERS)
    language = _choice(request.form.get("language", ""), LANGUAGES)
    source = request.form.get("source", "").replace("\r\n", "\n")
    action = request.form.get("action", "preview")
    own = (trigger, language) in shop_templates(shop.id)
    if action == "revert":
        delete_template(shop, trigger, language)
        db.session.commit()
        _audit("reverted %s/%s of shop %s", trigger, language, shop.id)
        flash(f"{trigger} ({language}) uses the shipped text again.", "success")
        return redirect(url_for("staff_admin.templates", shop=shop.id, trigger=trigger, language=language))
    try:
        if action == "save":
            save_template(shop, trigger, language, source, current_user.email)
        else:
            preview = preview_template(shop, trigger, language, source)
    except AdminError as error:
        db.session.rollback()
        return _template_page(shop, trigger, language, source, own, 400, error=error)
    if action == "save":
        db.session.commit()
        _audit("saved %s/%s of shop %s", trigger, language, shop.id)
        flash(f"{trigger} ({language}) saved; new messages use it.", "success")
        return redirect(url_for("staff_admin.templates", shop=shop.id, trigger=trigger, language=language))
    return _template_page(shop, trigger, language, source, own, preview=preview)


# --- carrier credentials (the operator's admins) ----------------------------------------------------------


def _operator_admin() -> None:
    """Carrier credentials serve every shop: only the operator's admins (no shop) may see or set them."""
    if current_user.shop_id is not None:
        abort(403)


def _carriers_page(status: int = 200, error: AdminError | None = None):
    key = current_app.config["CREDENTIALS_KEY"]
    required = {code: carrier.required_credentials for code, carrier in CARRIERS.items()}
    return (
        render_template(
            "staff/admin/carriers.html",
            overview=credential_overview(current_app.config["CARRIERS"], key),
            required=required,
            fields=CREDENTIAL_FIELDS,
            key_set=bool(key),
            error=error,
        ),
        status,
    )


@bp.get("/admin/carriers")
@staff_required(Role.ADMIN)
def carriers():
    """Where each carrier's credentials come from (database or environment); values are never shown."""
    _operator_admin()
    return _carriers_page()


@bp.post("/admin/carriers")
@staff_required(Role.ADMIN)
def save_carrier():
    """Store a carrier's credentials encrypted; they replace the environment's for that carrier."""
    _operator_admin()
    code = request.form.get("carrier", "")
    if code not in current_app.config["CARRIERS"]:
        abort(404)
    values = {name: request.form.get(name, "") for name in CREDENTIAL_FIELDS}
    try:
        save_credentials(code, values, current_app.config["CREDENTIALS_KEY"], current_user.email)
    except AdminError as error:
        db.session.rollback()
        return _carriers_page(400, error)
    db.session.commit()
    forget_clients(current_app, code)
    _audit("stored credentials of %s", code)
    flash(f"Credentials of {code} stored (encrypted). Restart workers to use them there.", "success")
    return redirect(url_for("staff_admin.carriers"))


@bp.post("/admin/carriers/clear")
@staff_required(Role.ADMIN)
def clear_carrier():
    """Forget a carrier's stored credentials: the environment's apply again."""
    _operator_admin()
    code = request.form.get("carrier", "")
    if code not in current_app.config["CARRIERS"]:
        abort(404)
    clear_credentials(code)
    db.session.commit()
    forget_clients(current_app, code)
    _audit("cleared credentials of %s", code)
    flash(f"Stored credentials of {code} removed; the environment's apply.", "success")
    return redirect(url_for("staff_admin.carriers"))


# --- the admin's own second factor -----------------------------------------------------------------------


@bp.get("/admin/account")
@staff_required(Role.ADMIN)
def account():
    """The signed-in admin's two-factor login: off, being enrolled, or on."""
    return render_template("staff/admin/account.html", user=current_user, uri=None)


@bp.post("/admin/account/totp/start")
@staff_required(Role.ADMIN)
def totp_start():
    """A new secret to type into an authenticator app (shown once); the factor is on once confirmed."""
    try:
        secret = totp.begin_enrolment(current_user)
    except AdminError as error:
        flash(error.message, "error")
        return redirect(url_for("staff_admin.account"))
    db.session.commit()
    page = render_template(
        "staff/admin/account.html", user=current_user, secret=secret, uri=totp.provisioning_uri(current_user)
    )
    return _no_store(page)


@bp.post("/admin/account/totp/confirm")
@staff_required(Role.ADMIN)
def totp_confirm():
    """Turn two-factor login on with a code from the app."""
    try:
        totp.confirm_enrolment(current_user, request.form.get("code", ""))
    except AdminError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("staff_admin.account"))
    db.session.commit()
    _audit("turned two-factor login on")
    flash("Two-factor login is on: from now on, login asks for a code from the app.", "success")
    return redirect(url_for("staff_admin.account"))


@bp.post("/admin/account/totp/disable")
@staff_required(Role.ADMIN)
def totp_disable():
    """Turn two-factor login off (a current code is required, so a left-open session cannot)."""
    if totp.required(current_user) and not totp.check_code(current_user, request.form.get("code", "")):
        db.session.commit()
        flash("That code is not right; two-factor login stays on.", "error")
        return redirect(url_for("staff_admin.account"))
    totp.disable(current_user)
    db.session.commit()
    _audit("turned two-factor login off")
    flash("Two-factor login is off.", "success")
    return redirect(url_for("staff_admin.account"))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def second_factor():
    """The login's second step for accounts with two-factor login: the current code from the app."""
    pending = session.get(SECOND_FACTOR_KEY)
    user = None
    if isinstance(pending, list) and len(pending) == 4 and time.time() - pending[2] <= SECOND_FACTOR_SECONDS:
        user = db.session.get(StaffUser, pending[0]) if isinstance(pending[0], int) else None
    if user is None or user.session_version != pending[1] or user.disabled_at is not None:
        session.pop(SECOND_FACTOR_KEY, None)
        flash("Log in with your email and password first.", "error")
        return redirect(url_for("staff_auth.login"))
    if request.method == "GET":
        return render_template("staff/admin/second_factor.html")
    now = utcnow()
    locked = user.locked_until is not None and user.locked_until > now
    if not locked and totp.check_code(user, request.form.get("code", "")):
        session.pop(SECOND_FACTOR_KEY, None)
        user.failed_logins, user.last_login_at = 0, now
        login_user(user)
        db.session.commit()
        return redirect(pending[3])
    if not locked:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
    db.session.commit()
    flash("That code is not right (or the account is locked for a while).", "error")
    return render_template("staff/admin/second_factor.html"), 401
