"""The served OpenAPI document is valid OpenAPI 3.0 and shows the wire format: money as decimal strings,
errors as problem details, and no catch-all response hiding undocumented statuses."""

from __future__ import annotations

from decimal import Decimal

from openapi_spec_validator import OpenAPIV30SpecValidator

from tests.factories import make_shipment

OPENAPI_PATH = "/api/v1/openapi.json"


def test_the_served_document_is_valid_openapi(client) -> None:
    response = client.get(OPENAPI_PATH)
    assert response.status_code == 200
    errors = [error.message for error in OpenAPIV30SpecValidator(response.get_json()).iter_errors()]
    assert errors == []


def test_money_is_documented_as_the_decimal_string_it_is_sent_as(client, auth, shop_key) -> None:
    document = client.get(OPENAPI_PATH).get_json()
    schemas = document["components"]["schemas"]
    assert schemas["Shipment"]["properties"]["declared_value"] == {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?[0-9]+\.[0-9]{2}$",
        "example": "49.00",
        "nullable": True,
    }
    assert schemas["ShipmentCreate"]["properties"]["declared_value"]["anyOf"] == [
        {"type": "number", "minimum": 0, "maximum": 10**9},
        {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
    ]
    assert schemas["SlotTemplateRead"]["properties"]["base_price"]["type"] == "string"
    assert schemas["CarrierServiceRead"]["properties"]["price"]["type"] == "string"

    shipment = make_shipment(shop_key[0], declared_value=Decimal("249.9"), weight_kg=Decimal("1.25"))
    body = client.get(f"/api/v1/shipments/{shipment.id}", headers=auth).get_json()
    assert (body["declared_value"], body["weight_kg"]) == ("249.90", "1.250")


def test_errors_are_documented_as_problem_details(client) -> None:
    document = client.get(OPENAPI_PATH).get_json()
    not_found = document["components"]["responses"]["NOT_FOUND"]
    assert list(not_found["content"]) == ["application/problem+json"]
    assert not_found["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    operation = document["paths"]["/api/v1/shipments/{shipment_id}"]["get"]
    assert sorted(operation["responses"]) == ["200", "401", "404"]
    confirm = document["paths"]["/api/v1/reservations/{public_id}/confirm"]["post"]
    assert sorted(confirm["responses"]) == ["200", "400", "401", "404", "409", "413", "422"]
