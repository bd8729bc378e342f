"""Thailand Post – Track & Trace API: token exchange, batches of ≤ 1,000, oldest first, Buddhist era in TH."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import CarrierApi, SandboxContext, Tracked, json_response, local_time
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.shipments import Scan
from carriers.sandbox.tokens import TokenState, token_header

BANGKOK = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543
DAILY_LIMIT = 1500


@dataclass(frozen=True)
class ThaiCode:
    """`status` code, its English and Thai `status_description`, and the delivery outcome if any."""

    code: str
    text: str
    text_th: str
    status: Status
    delivery: tuple[str, str, str] | None = None  # (delivery_status, description EN, description TH)


S = Status
_SUCCESS = ("S", "Successful delivery", "ผู้รับได้รับเรียบร้อยแล้ว")
# Thailand Post has no loss, damage or delay statuses; those milestones are not reported.
CODES: dict[M, ThaiCode] = {
    M.INFO_RECEIVED: ThaiCode("101", "Preload", "เตรียมการฝากส่ง", S.INFO_RECEIVED),
    M.PICKED_UP: ThaiCode("103", "Accept", "รับฝาก", S.IN_TRANSIT),
    M.HUB_ARRIVAL: ThaiCode("207", "Prepare transit", "เตรียมการขนส่ง", S.IN_TRANSIT),
    M.HUB_DEPARTURE: ThaiCode("201", "In transit", "ส่งออกจากที่ทำการกลางทาง", S.IN_TRANSIT),
    M.CUSTOMS: ThaiCode("202", "Customs clearance", "ดำเนินพิธีการศุลกากร", S.IN_TRANSIT),
    M.OUT_FOR_DELIVERY: ThaiCode("301", "Out for delivery", "อยู่ระหว่างการนำจ่าย", S.OUT_FOR_DELIVERY),
    M.DELIVERED: ThaiCode("501", "Final delivery", "นำจ่ายสำเร็จ", S.DELIVERED, _SUCCESS),
    M.FAILED_ATTEMPT: ThaiCode(
        "401", "Unsuccessful delivery", "นำจ่ายไม่สำเร็จ", S.FAILED_ATTEMPT, ("F", "No one at address", "ไม่มีผู้รับ")
    ),
    M.AVAILABLE_FOR_PICKUP: ThaiCode(
        "302", "Arrival at collection point for pick-up", "ถึงที่ทำการ รอผู้รับมารับ", S.AVAILABLE_FOR_PICKUP
    ),
    M.COLLECTED: ThaiCode("501", "Final delivery", "นำจ่ายสำเร็จ", S.DELIVERED, _SUCCESS),
    M.REFUSED: ThaiCode(
        "401", "Unsuccessful delivery", "นำจ่ายไม่สำเร็จ", S.FAILED_ATTEMPT, ("F", "Refused", "ปฏิเสธการรับ")
    ),
    M.RETURNING: ThaiCode("203", "Return to sender", "ส่งคืนต้นทาง", S.RETURNING),
}


def thai_date(value: datetime, thai: bool, with_time: bool = True) -> str:
    """`dd/MM/yyyy[ HH:mm:ss+07:00]` in Bangkok time, Buddhist-era year when the language is TH."""
    local = value.astimezone(BANGKOK)
    year = local.year + (BUDDHIST_ERA_OFFSET if thai else 0)
    day = f"{local.day:02d}/{local.month:02d}/{year}"
    return f"{day} {local.strftime('%H:%M:%S')}+07:00" if with_time else day


def _detail(message: str, status: int) -> Response:
    return json_response({"detail": message}, status)


def _failure(message: str, status: int = 400) -> Response:
    return json_response({"response": None, "message": message, "status": False}, status)


class ThailandPostApi(CarrierApi):
    """Thailand Post: `Authorization: Token <api key>` → token, then `Authorization: Token <token>`."""

    code = "thailandpost"
    codes = CODES
    batch_limit = 1000
    track_path = "/post/api/v1/track"
    track_method = "POST"
    token_path = "/post/api/v1/authenticate/token"

    def __init__(self) -> None:
        self._count = 0
        self._count_lock = threading.Lock()

    def token(self, ctx: SandboxContext, request: Request) -> Response:
        """Exchange the API key for a token; `expire` is local time with `+07:00`."""
        if token_header(request) != ctx.credentials.api_key:
            return _detail("Invalid token.", 401)
        expire = (datetime.now(BANGKOK) + timedelta(seconds=ctx.tokens.ttl)).strftime(
            "%Y-%m-%d %H:%M:%S+07:00"
        )
        return json_response({"expire": expire, "token": ctx.tokens.issue(self.code)})

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """Accept a live token from the token endpoint."""
        state = ctx.tokens.check(self.code, token_header(request))
        if state is TokenState.VALID:
            return None
        return _detail("Token has expired." if state is TokenState.EXPIRED else "Invalid token.", 401)

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """`barcode[]` from the JSON body, 1 to 1,000."""
        body = request.get_json(silent=True)
        barcodes = body.get("barcode") if isinstance(body, dict) else None
        if (
            not isinstance(barcodes, list)
            or not barcodes
            or not all(isinstance(b, str) and b for b in barcodes)
        ):
            return _failure("invalid parameter: barcode")
        if len(barcodes) > self.batch_limit:
            return _failure(f"barcode list exceeds {self.batch_limit} items")
        return [b.strip() for b in barcodes]

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """Items keyed by barcode (unknown → empty list) and the daily `track_count`."""
        body = request.get_json(silent=True) or {}
        thai = str(body.get("language", "TH")).upper() == "TH"
        with self._count_lock:
            self._count += len(tracked)
            count = self._count
        items = {item.number: [_event(item.number, scan, thai) for scan in item.scans] for item in tracked}
        response = {
            "items": items,
            "track_count": {
                "track_date": thai_date(tracked[0].now, thai, with_time=False),
                "count_number": count,
                "track_count_limit": DAILY_LIMIT,
            },
        }
        return json_response({"response": response, "message": "successful", "status": True})

    def rate_limited(self, retry_after: int) -> Response:
        """The throttling answer (the real API blocks for 30 s)."""
        return _detail(f"Request was throttled. Expected available in {retry_after} seconds.", 429)

    def server_error(self) -> Response:
        """503 from the API framework."""
        return _detail("Service temporarily unavailable, try again later.", 503)


def _event(barcode: str, scan: Scan, thai: bool) -> dict[str, Any]:
    code = CODES[scan.milestone]
    place = scan.place
    when = thai_date(local_time(scan), thai)
    event: dict[str, Any] = {
        "barcode": barcode,
        "status": code.code,
        "status_description": code.text_th if thai else code.text,
        "status_date": when,
        "location": (place.local_name or place.name) if thai else place.name,
        "postcode": place.postcode,
        "delivery_status": None,
        "delivery_description": None,
        "delivery_datetime": None,
        "receiver_name": None,
        "signature": None,
    }
    if code.delivery:
        status, text, text_th = code.delivery
        event |= {
            "delivery_status": status,
            "delivery_description": text_th if thai else text,
            "delivery_datetime": when,
        }
        if status == "S":
            # The receiver's name stays in Thai script even in English answers.
            event["receiver_name"] = "สมชาย ใจดี/ผู้รับ"
            event["signature"] = f"https://trackimage.thailandpost.co.th/f/signature/{barcode}"
    return event
