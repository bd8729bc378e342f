"""Local stand-ins the embedded default starts where nothing is configured: a mail sink, an SMS provider
and a Nominatim-compatible geocoder, all on loopback."""

from __future__ import annotations

from typing import Any

from flask import Flask

from planning.geo_sandbox import GeocoderSandbox


def start_local_channels(config: dict[str, Any], smtp_port: int = 8025, sms_port: int = 8030) -> list[str]:
    """For the embedded default: start a local SMTP sink and SMS sandbox where none is configured.

    Port 0 lets the OS pick. Updates `config` to point at them (and allows loopback webhooks); returns
    lines to print.
    """
    from notifications.mail_sandbox import MailSandbox
    from notifications.sms_sandbox import SmsSandbox

    started = []
    if not config["SMTP_HOST"]:
        # The outbox viewer shows what was sent: the sink need not keep the messages.
        sink = MailSandbox(port=smtp_port, keep=False).start()
        config.update(SMTP_HOST=sink.host, SMTP_PORT=sink.port)
        started.append(f"local SMTP sink on {sink.host}:{sink.port}")
    if not config["SMS_BASE_URL"]:
        sandbox = SmsSandbox("ACembedded", "embedded-token", port=sms_port).start()
        config.update(SMS_BASE_URL=sandbox.url, SMS_ACCOUNT_SID="ACembedded", SMS_AUTH_TOKEN="embedded-token")
        started.append(f"SMS sandbox on {sandbox.url}")
    config["WEBHOOKS_ALLOW_PRIVATE"] = True
    return started


def start_local_geocoder(app: Flask, port: int = 0) -> GeocoderSandbox:
    """Embedded mode: serve the generated gazetteer on loopback and point the app's geocoder at it."""
    server = GeocoderSandbox(port).start()
    app.config.update(GEOCODER_URL=server.url, GEOCODER_MIN_DELAY_SECONDS=0.0)
    return server
