"""The sandbox carriers over real sockets: shapes, auth flows, scenario renderings, faults and stats."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from carriers.sandbox import Credentials, FaultKind, FaultSpec, SandboxServer, SandboxSettings

START = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)
LONG_AGO = START - timedelta(hours=200)  # every scenario has finished by START
CREDS = Credentials()
CARRIERS = ("bring", "postnord", "dhl", "ups", "fedex", "usps", "gls", "thailandpost")


@pytest.fixture(scope="module")
def server():
    # speed 0 freezes the clock at START, so event times are exact.
    with SandboxServer(SandboxSettings(speed=0, start=START)) as running:
        yield running


@pytest.fixture()
def http():
    with requests.Session() as session:
        yield session


def oauth_token(
    http: requests.Session, server: SandboxServer, carrier: str, secret: str = CREDS.client_secret
):
    """POST a client-credentials token request the way each carrier wants it."""
    path = {"ups": "/security/v1/oauth/token", "fedex": "/oauth/token", "usps": "/oauth2/v3/token"}.get(
        carrier, "/oauth2/v1/token"
    )
    if carrier == "ups":
        return http.post(
            server.base_url(carrier) + path,
            data={"grant_type": "client_credentials"},
            auth=(CREDS.client_id, secret),
        )
    form = {"grant_type": "client_credentials", "client_id": CREDS.client_id, "client_secret": secret}
    return http.post(server.base_url(carrier) + path, data=form)


def auth_headers(http: requests.Session, server: SandboxServer, carrier: str) -> dict[str, str]:
    """Headers that authenticate a tracking call (fetching a token where needed)."""
    if carrier == "bring":
        return {"X-Mybring-API-Uid": CREDS.api_uid, "X-Mybring-API-Key": CREDS.api_key}
    if carrier == "dhl":
        return {"DHL-API-Key": CREDS.api_key}
    if carrier == "postnord":
        return {}
    if carrier == "thailandpost":
        url = server.base_url(carrier) + "/post/api/v1/authenticate/token"
        token = http.post(url, headers={"Authorization": f"Token {CREDS.api_key}"}).json()["token"]
        return {"Authorization": f"Token {token}"}
    headers = {"Authorization": f"Bearer {oauth_token(http, server, carrier).json()['access_token']}"}
    if carrier == "ups":
        headers |= {"transId": "t-1", "transactionSrc": "leveranse"}
    return headers


def track(
    http: requests.Session,
    server: SandboxServer,
    carrier: str,
    numbers: list[str],
    headers: dict[str, str] | None = None,
    language: str = "EN",
) -> requests.Response:
    """One tracking call in the carrier's real request shape."""
    base = server.base_url(carrier)
    headers = auth_headers(http, server, carrier) if headers is None else headers
    if carrier == "bring":
        return http.get(f"{base}/tracking/api/v2/tracking.json", params={"q": numbers[0]}, headers=headers)
    if carrier == "postnord":
        params = {"id": numbers[0], "locale": "en", "apikey": CREDS.api_key}
        return http.get(
            f"{base}/rest/shipment/v5/trackandtrace/findByIdentifier.json", params=params, headers=headers
        )
    if carrier == "dhl":
        return http.get(f"{base}/track/shipments", params={"trackingNumber": numbers[0]}, headers=headers)
    if carrier == "ups":
        return http.get(f"{base}/api/track/v1/details/{numbers[0]}", headers=headers)
    if carrier == "usps":
        return http.get(
            f"{base}/tracking/v3/tracking/{numbers[0]}", params={"expand": "DETAIL"}, headers=headers
        )
    if carrier == "fedex":
        body = {
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers],
        }
        return http.post(f"{base}/track/v1/trackingnumbers", json=body, headers=headers)
    if carrier == "gls":
        return http.get(
            f"{base}/track-and-trace-v1/tracking/simple/trackids/{','.join(numbers)}", headers=headers
        )
    body = {"status": "all", "language": language, "barcode": numbers}
    return http.post(f"{base}/post/api/v1/track", json=body, headers=headers)


def final_code(carrier: str, body: dict[str, Any]) -> str:
    """The carrier's own summary status field of a single-number answer."""
    if carrier == "bring":
        return body["consignmentSet"][0]["packageSet"][0]["eventSet"][0]["status"]
    if carrier == "postnord":
        return body["TrackingInformationResponse"]["shipments"][0]["items"][0]["status"]
    if carrier == "dhl":
        status = body["shipments"][0]["status"]
        return f"{status['statusCode']}/{status['status']}"
    if carrier == "ups":
        return body["trackResponse"]["shipment"][0]["package"][0]["currentStatus"]["code"]
    if carrier == "fedex":
        return body["output"]["completeTrackResults"][0]["trackResults"][0]["latestStatusDetail"]["code"]
    if carrier == "usps":
        return body["statusCategory"]
    if carrier == "gls":
        return body["parcels"][0]["status"]
    (events,) = body["response"]["items"].values()
    return events[-1]["status"]


FINAL_CODES = {
    "bring": [
        "DELIVERED",
        "DELIVERED",
        "TERMINAL",
        "DEVIATION",
        "DEVIATION",
        "DELIVERED",
        "DELIVERED_SENDER",
    ],
    "postnord": ["DELIVERED", "DELIVERED", "EN_ROUTE", "STOPPED", "STOPPED", "DELIVERED", "RETURNED"],
    "dhl": [
        "delivered/DELIVERED",
        "delivered/DELIVERED",
        "transit/ARRIVED AT SORT FACILITY",
        "failure/LOST",
        "failure/DAMAGED",
        "delivered/DELIVERED",
        "failure/RETURNED",
    ],
    "ups": ["011", "011", "005", "068", "059", "011", "034"],
    "fedex": ["DL", "DL", "AR", "SE", "SE", "DL", "RS"],
    "usps": ["Delivered", "Delivered", "In Transit", "Alert", "Alert", "Delivered", "Return to Sender"],
    "gls": [
        "DELIVERED",
        "DELIVERED",
        "INWAREHOUSE",
        "INWAREHOUSE",
        "INWAREHOUSE",
        "DELIVERED",
        "NOTDELIVERED",
    ],
    "thailandpost": ["501", "501", "207", "207", "207", "501", "203"],
}
SCENARIOS = ["on_time", "late", "stuck", "lost", "damaged", "failed_attempt_then_pickup", "returned"]


@pytest.mark.parametrize("carrier", CARRIERS)
def test_every_scenario_ends_in_the_carriers_own_final_code(server, http, carrier):
    codes = []
    for scenario in SCENARIOS:
        number = f"SC{carrier[:3].upper()}{scenario[:6].upper()}1"
        server.register(carrier, number, scenario, LONG_AGO)
        response = track(http, server, carrier, [number])
        assert response.status_code == 200, response.text
        codes.append(final_code(carrier, response.json()))
    assert codes == FINAL_CODES[carrier]


NOT_FOUND = {
    "bring": (
        200,
        lambda b: (
            b
            == {
                "apiVersion": "2",
                "consignmentSet": [{"error": {"code": 404, "message": "No shipments found"}}],
            }
        ),
    ),
    "postnord": (200, lambda b: b == {"TrackingInformationResponse": {"shipments": []}}),
    "dhl": (
        404,
        lambda b: (
            b["title"] == "No result found" and b["status"] == 404 and b["instance"] == "/shipment/NF1234567"
        ),
    ),
    "ups": (
        200,
        lambda b: (
            b["trackResponse"]["shipment"][0]["warnings"]
            == [{"code": "TW0001", "message": "Tracking Information Not Found"}]
        ),
    ),
    "fedex": (
        200,
        lambda b: (
            b["output"]["completeTrackResults"][0]["trackResults"][0]["error"]["code"]
            == "TRACKING.TRACKINGNUMBER.NOTFOUND"
        ),
    ),
    "usps": (404, lambda b: b["error"]["code"] == "404"),
    "gls": (
        200,
        lambda b: (
            b
            == {
                "parcels": [
                    {"requested": "NF1234567", "errorCode": "E_404_01", "errorMessage": "Resource Not Found"}
                ]
            }
        ),
    ),
    "thailandpost": (200, lambda b: b["response"]["items"] == {"NF1234567": []} and b["status"] is True),
}


@pytest.mark.parametrize("carrier", CARRIERS)
def test_not_found_uses_the_carriers_real_envelope(server, http, carrier):
    server.register(carrier, "NF1234567", "not_found", LONG_AGO)
    response = track(http, server, carrier, ["NF1234567"])
    status, check = NOT_FOUND[carrier]
    assert response.status_code == status
    assert check(response.json()), response.text


def test_bring_shape_newest_first_with_offsets(server, http):
    server.register("bring", "BRINGSHAPE1", "on_time", LONG_AGO)
    package = track(http, server, "bring", ["BRINGSHAPE1"]).json()["consignmentSet"][0]["packageSet"][0]
    events = package["eventSet"]
    assert package["packageNumber"] == "BRINGSHAPE1"
    # this number hashes to the Göteborg -> Oslo route, which clears customs
    assert [(e["status"], e["city"]) for e in events] == [
        ("DELIVERED", "OSLO"),
        ("TRANSPORT_TO_RECIPIENT", "OSLO"),
        ("IN_TRANSIT", "OSLO"),
        ("TERMINAL", "OSLO"),
        ("CUSTOMS", "TISTEDALEN"),
        ("IN_TRANSIT", "GÖTEBORG"),
        ("TERMINAL", "GÖTEBORG"),
        ("HANDED_IN", "GÖTEBORG"),
        ("PRE_NOTIFIED", "GÖTEBORG"),
    ]
    assert (events[-1]["dateIso"], events[-1]["countryCode"]) == ("2024-02-24T23:00:00+01:00", "SE")
    # created 2024-02-24T22:00Z, delivered 44 h later = 18:00Z = 19:00 in Oslo (+01:00 in winter)
    assert events[0]["dateIso"] == "2024-02-26T19:00:00+01:00"
    assert (events[0]["displayDate"], events[0]["displayTime"]) == ("26.02.2024", "19:00")
    assert events[0]["recipientSignature"]["name"] == "O NORDMANN"
    assert package["dateOfDelivery"] == "26.02.2024"
    assert package["dateOfEstimatedDelivery"] is None


def test_eta_is_shown_in_transit_and_revised_when_late(server, http):
    server.register("bring", "BRINGETA1", "on_time", START - timedelta(hours=10))
    server.register("bring", "BRINGETA2", "late", START - timedelta(hours=21))
    on_time = track(http, server, "bring", ["BRINGETA1"]).json()["consignmentSet"][0]["packageSet"][0]
    late = track(http, server, "bring", ["BRINGETA2"]).json()["consignmentSet"][0]["packageSet"][0]
    # promised 44 h after 2024-03-03T20:00Z = 2024-03-05T16:00Z
    assert on_time["dateOfEstimatedDelivery"] == "05.03.2024"
    assert late["eventSet"][0]["status"] == "DEVIATION"
    # delayed: delivery moves to 70 h after 2024-03-03T09:00Z = 2024-03-06T07:00Z
    assert late["dateOfEstimatedDelivery"] == "06.03.2024"


def test_postnord_oldest_first_local_time_alpha3(server, http):
    server.register("postnord", "PNSHAPE1", "failed_attempt_then_pickup", LONG_AGO)
    shipment = track(http, server, "postnord", ["PNSHAPE1"]).json()["TrackingInformationResponse"][
        "shipments"
    ][0]
    events = shipment["items"][0]["events"]
    assert [e["eventCode"] for e in events][:2] == ["68", "71"]
    assert [e["status"] for e in events][-3:] == [
        "DELIVERY_IMPOSSIBLE",
        "AVAILABLE_FOR_DELIVERY",
        "DELIVERED",
    ]
    assert events[0]["eventTime"] == "2024-02-24T23:00:00"  # Stockholm local, no offset
    assert events[-1]["location"]["countryCode"] == "SWE"
    assert shipment["deliveryPoint"]["locationType"] == "SERVICE_POINT"
    assert "estimatedTimeOfArrival" not in shipment


def test_dhl_events_without_offset_status_in_utc(server, http):
    server.register("dhl", "DHLSHAPE1", "stuck", LONG_AGO)
    shipment = track(http, server, "dhl", ["DHLSHAPE1"]).json()["shipments"][0]
    assert [e["statusCode"] for e in shipment["events"]] == ["transit", "transit", "pre-transit"]
    assert shipment["status"]["timestamp"] == "2024-02-25T07:00:00Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", shipment["events"][0]["timestamp"])
    assert shipment["estimatedTimeOfDelivery"] == "2024-02-26T18:00:00Z"


def test_ups_dates_times_and_gmt_trio(server, http):
    server.register("ups", "1ZSANDBOX0001", "on_time", LONG_AGO)
    package = track(http, server, "ups", ["1ZSANDBOX0001"]).json()["trackResponse"]["shipment"][0]["package"][
        0
    ]
    delivered = package["activity"][0]
    assert delivered["status"]["description"] == "DELIVERED "
    assert delivered["gmtDate"] == "20240226" and delivered["gmtTime"] == "18:00:00"
    assert (delivered["date"], delivered["time"], delivered["gmtOffset"]) == ("20240226", "120000", "-06:00")
    assert package["deliveryDate"] == [{"type": "DEL", "date": delivered["date"]}]
    assert package["activity"][-1]["status"]["type"] == "M"


def test_ups_requires_transaction_headers(server, http):
    headers = auth_headers(http, server, "ups")
    del headers["transId"]
    response = track(http, server, "ups", ["1ZSANDBOX0002"], headers=headers)
    assert response.status_code == 400
    assert response.json()["response"]["errors"][0]["code"] == "TV1002"


def test_fedex_batch_with_partial_not_found_and_limit(server, http):
    server.register("fedex", "FX000000001", "on_time", LONG_AGO)
    server.register("fedex", "FX000000002", "not_found", LONG_AGO)
    body = track(http, server, "fedex", ["FX000000001", "FX000000002"]).json()
    first, second = body["output"]["completeTrackResults"]
    result = first["trackResults"][0]
    assert result["scanEvents"][0]["eventType"] == "DL"
    assert result["scanEvents"][0]["date"] == "2024-02-26T12:00:00-06:00"  # Nashville
    assert {d["type"] for d in result["dateAndTimes"]} == {"SHIP", "ACTUAL_PICKUP", "ACTUAL_DELIVERY"}
    assert second["trackResults"][0]["error"]["code"] == "TRACKING.TRACKINGNUMBER.NOTFOUND"
    too_many = track(http, server, "fedex", [f"FXB{i:08d}" for i in range(31)])
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["code"] == "TRACKING.TRACKINGNUMBER.LIMITEXCEEDED"


def test_usps_local_and_gmt_timestamps(server, http):
    server.register("usps", "9400100000000000000001", "on_time", LONG_AGO)
    body = track(http, server, "usps", ["9400100000000000000001"]).json()
    delivered = body["trackingEvents"][0]
    assert (delivered["eventCode"], delivered["GMTTimestamp"]) == ("01", "2024-02-26T18:00:00Z")
    assert (delivered["eventTimestamp"], delivered["GMTOffset"]) == ("2024-02-26T11:00:00", "-07:00")  # Boise
    assert body["trackingEvents"][-1]["eventCode"] == "GX"
    assert body["emailEnabled"] == "true"


def test_gls_batch_offsets_without_colon_and_max_ten(server, http):
    server.register("gls", "GLS00000001", "on_time", LONG_AGO)
    parcels = track(http, server, "gls", ["GLS00000001", "GLSUNKNOWN"]).json()["parcels"]
    assert parcels[0]["statusDateTime"] == "2024-02-26T19:00:00+0100"
    assert [e["code"] for e in parcels[0]["events"]][-1] == "INTIAL.PREADVICE"
    assert parcels[1]["requested"] == "GLSUNKNOWN"
    too_many = track(http, server, "gls", [f"G{i}" for i in range(11)])
    assert too_many.status_code == 400
    assert too_many.json()["detail"] == "Provided trackids of size '11' is more than allowed limit of 10"


def test_thailandpost_buddhist_era_in_thai_only(server, http):
    server.register("thailandpost", "EY000000001TH", "on_time", LONG_AGO)
    thai = track(http, server, "thailandpost", ["EY000000001TH"], language="TH").json()["response"]
    english = track(http, server, "thailandpost", ["EY000000001TH"], language="EN").json()["response"]
    first_th, last_th = thai["items"]["EY000000001TH"][0], thai["items"]["EY000000001TH"][-1]
    assert (first_th["status"], first_th["status_date"]) == ("101", "25/02/2567 05:00:00+07:00")
    assert (last_th["status"], last_th["delivery_status"]) == ("501", "S")
    assert last_th["status_description"] == "นำจ่ายสำเร็จ"
    assert english["items"]["EY000000001TH"][0]["status_date"] == "25/02/2024 05:00:00+07:00"
    assert english["items"]["EY000000001TH"][-1]["status_description"] == "Final delivery"
    assert thai["track_count"]["track_date"] == "04/03/2567"


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps", "gls"])
def test_oauth_wrong_secret_is_rejected_with_401(server, http, carrier):
    response = oauth_token(http, server, carrier, secret="wrong")
    assert response.status_code == 401
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    ("carrier", "headers", "status"),
    [
        ("bring", {"X-Mybring-API-Uid": CREDS.api_uid, "X-Mybring-API-Key": "wrong"}, 401),
        ("dhl", {"DHL-API-Key": "wrong"}, 401),
        ("ups", {"Authorization": "Bearer nope", "transId": "1", "transactionSrc": "x"}, 401),
        ("fedex", {"Authorization": "Bearer nope"}, 401),
        ("usps", {"Authorization": "Bearer nope"}, 401),
        ("gls", {"Authorization": "Bearer nope"}, 401),
        ("thailandpost", {"Authorization": "Token nope"}, 401),
    ],
)
def test_tracking_with_bad_credentials_is_rejected(server, http, carrier, headers, status):
    assert track(http, server, carrier, ["AUTH0000001"], headers=headers).status_code == status


def test_postnord_bad_key_is_403_with_empty_body(server, http):
    url = server.base_url("postnord") + "/rest/shipment/v5/trackandtrace/findByIdentifier.json"
    response = http.get(url, params={"id": "X1", "apikey": "wrong"})
    assert (response.status_code, response.content) == (403, b"")


def test_thailandpost_token_exchange_and_wrong_key(server, http):
    url = server.base_url("thailandpost") + "/post/api/v1/authenticate/token"
    good = http.post(url, headers={"Authorization": f"Token {CREDS.api_key}"})
    assert good.status_code == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+07:00", good.json()["expire"])
    bad = http.post(url, headers={"Authorization": "Token wrong"})
    assert (bad.status_code, bad.json()) == (401, {"detail": "Invalid token."})


def test_expired_tokens_get_401(http):
    with SandboxServer(SandboxSettings(token_ttl=0.05)) as short:
        ups = auth_headers(http, short, "ups")
        gls = auth_headers(http, short, "gls")
        thai = auth_headers(http, short, "thailandpost")
        time.sleep(0.1)
        ups_response = track(http, short, "ups", ["1ZEXPIRED001"], headers=ups)
        gls_response = track(http, short, "gls", ["GLSEXPIRED1"], headers=gls)
        thai_response = track(http, short, "thailandpost", ["EX1TH"], headers=thai)
    assert (ups_response.status_code, ups_response.json()["response"]["errors"][0]["code"]) == (401, "250002")
    assert gls_response.json()["fault"]["detail"]["errorcode"] == "keymanagement.service.access_token_expired"
    assert (thai_response.status_code, thai_response.json()) == (401, {"detail": "Token has expired."})


# --- faults ------------------------------------------------------------------------------------


@pytest.fixture()
def faulty(server):
    server.clear_faults()
    yield server
    server.clear_faults()


RATE_LIMIT_BODIES = {
    "bring": lambda r: r.headers["Content-Type"].startswith("text/plain"),
    "gls": lambda r: r.json()["fault"]["detail"]["errorcode"] == "policies.ratelimit.QuotaViolation",
    "fedex": lambda r: r.json()["errors"][0]["code"] == "RATE.LIMIT.EXCEEDED",
    "thailandpost": lambda r: (
        r.json() == {"detail": "Request was throttled. Expected available in 7 seconds."}
    ),
    "dhl": lambda r: r.json()["status"] == 429,
}


@pytest.mark.parametrize("carrier", sorted(RATE_LIMIT_BODIES))
def test_rate_limit_fault_has_retry_after_and_real_body(faulty, http, carrier):
    headers = auth_headers(http, faulty, carrier)
    faulty.add_fault(FaultSpec(FaultKind.RATE_LIMIT, carrier=carrier, count=1, retry_after=7))
    limited = track(http, faulty, carrier, ["RL0000001"], headers=headers)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert RATE_LIMIT_BODIES[carrier](limited)
    assert track(http, faulty, carrier, ["RL0000001"], headers=headers).status_code == 200  # count=1 used up


def test_server_error_fault_is_brings_503_too_busy(faulty, http):
    faulty.add_fault(FaultSpec(FaultKind.SERVER_ERROR, carrier="bring", count=1))
    response = track(http, faulty, "bring", ["SE0000001"])
    assert response.status_code == 503
    error = response.json()["shipments"][0]["consignmentSet"][0]["error"]
    assert (error["code"], error["system"]) == (503, "TooBusyPakker_TooBusyPakker")


def test_fault_for_one_carrier_leaves_others_alone(faulty, http):
    faulty.add_fault(FaultSpec(FaultKind.SERVER_ERROR, carrier="dhl"))
    assert track(http, faulty, "bring", ["ISO000001"]).status_code == 200
    assert track(http, faulty, "dhl", ["ISO000001"]).status_code == 503


def test_timeout_fault_delays_past_the_client_timeout(faulty, http):
    headers = auth_headers(http, faulty, "dhl")
    faulty.add_fault(FaultSpec(FaultKind.TIMEOUT, carrier="dhl", count=1, delay=0.6))
    url = faulty.base_url("dhl") + "/track/shipments"
    with pytest.raises(requests.Timeout):
        requests.get(url, params={"trackingNumber": "TO0000001"}, headers=headers, timeout=0.2)


def test_malformed_fault_alternates_truncated_json_and_html(faulty, http):
    headers = auth_headers(http, faulty, "usps")
    faulty.register("usps", "9400100000000000000002", "on_time", LONG_AGO)
    faulty.add_fault(FaultSpec(FaultKind.MALFORMED, carrier="usps", count=2))
    truncated = track(http, faulty, "usps", ["9400100000000000000002"], headers=headers)
    html = track(http, faulty, "usps", ["9400100000000000000002"], headers=headers)
    assert truncated.status_code == 200 and truncated.text.startswith('{"trackingNumber"')
    with pytest.raises(requests.JSONDecodeError):
        truncated.json()
    assert (html.status_code, html.headers["Content-Type"]) == (200, "text/html")
    assert "<h1>502 Bad Gateway</h1>" in html.text


def test_partial_fault_fails_some_numbers_of_a_batch(faulty, http):
    numbers = [f"PB{i:09d}" for i in range(4)]
    for n in numbers:
        faulty.register("gls", n, "on_time", LONG_AGO)
        faulty.register("thailandpost", n, "on_time", LONG_AGO)
    headers = auth_headers(http, faulty, "gls")
    faulty.add_fault(FaultSpec(FaultKind.PARTIAL, count=2))
    parcels = track(http, faulty, "gls", numbers, headers=headers).json()["parcels"]
    items = track(http, faulty, "thailandpost", numbers).json()["response"]["items"]
    assert [p.get("errorCode") for p in parcels] == ["E_404_01", None, "E_404_01", None]
    assert [len(items[n]) for n in numbers] == [0, 9, 0, 9]


def test_faults_over_http_control_api_and_stats(faulty, http):
    faulty.reset_stats()
    url = faulty.url + "/_sandbox/faults"
    posted = http.post(url, json={"carrier": "dhl", "kind": "server_error", "count": 2})
    assert posted.json() == {
        "faults": [
            {
                "kind": "server_error",
                "carrier": "dhl",
                "probability": 1.0,
                "count": 2,
                "retry_after": 1,
                "delay": 2.0,
            }
        ]
    }
    assert http.post(url, json={"kind": "explode"}).status_code == 400
    assert http.post(url, json={"kind": "timeout", "carrier": "nowhere"}).status_code == 400
    statuses = [track(http, faulty, "dhl", ["ST0000001"]).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert http.get(url).json() == {"faults": []}
    http.post(url, json={"kind": "rate_limit"})
    assert http.delete(url).json() == {"faults": []}
    stats = http.get(faulty.url + "/_sandbox/stats").json()
    assert stats["requests"] == {"dhl": {"track": 3}}
    assert stats["faults"] == {"dhl": {"server_error": 2}}
    assert stats["numbers"] == {"dhl": 1}
    assert (stats["total_requests"], stats["total_faults"]) == (3, 2)


def test_probability_zero_never_fires(faulty, http):
    faulty.add_fault(FaultSpec(FaultKind.SERVER_ERROR, carrier="dhl", probability=0.0))
    assert [track(http, faulty, "dhl", ["PZ0000001"]).status_code for _ in range(3)] == [200, 200, 200]
