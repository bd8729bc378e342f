"""A local Twilio-compatible SMS provider for tests and the demo: loopback only, no real SMS.

`POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth and form fields To, From, Body;
answers 201 `{"sid": "SM...", ...}`, honours `Idempotency-Key`, and keeps what it received.
Failures can be queued (`fail_next`) or triggered by magic recipients, like Twilio's test numbers:
`+15005550001` invalid number (400, code 21211), `+15005550009` unsubscribed (400, code 21610),
`+15005550500` provider error (500). Run it alone with `python -m notifications.sms_sandbox`.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from notifications.sandbox import JsonHandler, LoopbackServer

_PATH = re.compile(r"/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json")
_MAGIC = {
    "+15005550001": (400, 21211, "The 'To' number is not a valid phone number."),
    "+15005550009": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550500": (500, 20500, "Internal Server Error"),
}


@dataclass(frozen=True)
class SentSms:
    """A message the sandbox accepted."""

    sid: str
    to: str
    sender: str
    body: str


@dataclass(frozen=True)
class Failure:
    """A scripted answer: an HTTP status and provider code, optionally after a delay (for timeouts)."""

    status: int
    code: int = 0
    message: str = "simulated failure"
    delay: float = 0.0
    retry_after: int | None = None


class SmsSandbox(LoopbackServer):
    """The sandbox provider; a context manager that serves on a background thread."""

    def __init__(self, account_sid: str, auth_token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[SentSms] = []
        self._failures: deque[Failure] = deque()
        self._by_key: dict[str, SentSms] = {}
        self._lock = threading.Lock()
        super().__init__(_handler_for(self), host, port)

    def fail_next(self, failure: Failure, count: int = 1) -> None:
        """Answer the next `count` requests with `failure` instead of sending."""
        with self._lock:
            self._failures.extend([failure] * count)

    def handle(
        self, sid: str, headers: Mapping[str, str], form: dict[str, str]
    ) -> tuple[int, dict, Failure | None]:
        """Decide the answer to one request: (status, JSON body, the scripted failure if any)."""
        if sid != self.account_sid or headers.get("Authorization") != _basic(
            self.account_sid, self.auth_token
        ):
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}, None
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is None and form.get("To") in _MAGIC:
            failure = Failure(*_MAGIC[form["To"]])
        if failure is not None:
            return (
                failure.status,
                {"code": failure.code, "message": failure.message, "status": failure.status},
                failure,
            )
        missing = [name for name in ("To", "From", "Body") if not form.get(name)]
        if missing:
            return 400, {"code": 21604, "message": f"Missing {', '.join(missing)}", "status": 400}, None
        key = headers.get("Idempotency-Key", "")
        with self._lock:
            sent = self._by_key.get(key) if key else None
            if sent is None:
                sent = SentSms(f"SM{uuid.uuid4().hex}", form["To"], form["From"], form["Body"])
                self.messages.append(sent)
                if key:
                    self._by_key[key] = sent
        answer = {"sid": sent.sid, "to": sent.to, "from": sent.sender, "body": sent.body, "status": "queued"}
        return 201, answer, None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _handler_for(sandbox: SmsSandbox) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            raw = self.read_body().decode("utf-8", "replace")
            match = _PATH.fullmatch(self.path)
            if match is None:
                self.answer(404, {"code": 20404, "message": "Not found", "status": 404})
                return
            form = {name: values[0] for name, values in parse_qs(raw).items()}
            status, body, failure = sandbox.handle(match["sid"], self.headers, form)
            if failure is not None and failure.delay:
                time.sleep(failure.delay)
            retry_after = failure.retry_after if failure else None
            self.answer(status, body, {"Retry-After": str(retry_after)} if retry_after is not None else None)

    return Handler


def main() -> None:
    """Serve the sandbox in the foreground, printing each message it accepts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8030)
    parser.add_argument("--account-sid", default="ACsandbox")
    parser.add_argument("--auth-token", default="sandbox-token")
    args = parser.parse_args()
    sandbox = SmsSandbox(args.account_sid, args.auth_token, port=args.port).start()
    print(f"SMS sandbox on {sandbox.url} (account {args.account_sid})", flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            for sms in sandbox.messages[seen:]:
                print(json.dumps(dataclasses.asdict(sms), ensure_ascii=False), flush=True)
            seen = len(sandbox.messages)
    except KeyboardInterrupt:
        sandbox.stop()


if __name__ == "__main__":
    main()
