"""Pure slot and carrier offers: which windows fit, marginal-cost prices, reasons, honest carrier promises."""

from __future__ import annotations

import random
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from planning.carrier_options import CarrierService, next_handover, offer_carriers
from planning.geo import Point, TravelModel
from planning.options import Pricing, SlotWindow, offer_slots
from planning.prediction import default_model
from planning.prediction.data import Place
from planning.routing.day_plan import BookedStop, Van, build_day, insert_stop, remove_stops, vehicle_loads
from planning.routing.insertion import Insertion, best_insertions

OSLO = ZoneInfo("Europe/Oslo")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=OSLO)


def day_with_one_route():
    vans = [Van("1", 100, at(8), at(16)), Van("2", 100, at(8), at(16), fixed_cost=10.0)]
    stops = [
        BookedStop("a", Point(59.91, 10.75), 10, at(10), at(12), 180.0),
        BookedStop("b", Point(59.92, 10.70), 10, at(10), at(12), 180.0),
    ]
    return build_day(
        at(0), Point(59.95, 10.85), (at(7), at(21)), vans, stops, {"1": ["a", "b"]}, TravelModel()
    )


WINDOWS = [
    SlotWindow("morning", at(8), at(10), 5, 0, Decimal("99"), at(6)),
    SlotWindow("midday", at(10), at(12), 5, 0, Decimal("99"), at(6)),
    SlotWindow("full", at(12), at(14), 5, 5, Decimal("99"), at(6)),
    SlotWindow("closed", at(14), at(16), 5, 0, Decimal("99"), at(4)),
    SlotWindow("evening", at(18), at(20), 5, 0, Decimal("99"), at(6)),
]


def summary(offers):
    return [
        (
            o.window.key,
            o.offered,
            o.price,
            o.green,
            o.insertion and (o.insertion.vehicle, o.insertion.position),
        )
        for o in offers
    ]


def test_a_stop_near_the_route_gets_green_discounted_slots() -> None:
    near = BookedStop("new", Point(59.915, 10.725), 5, at(0), at(0), 180.0)
    offers = offer_slots(day_with_one_route(), near, WINDOWS, at(5), Pricing())
    assert summary(offers) == [
        ("morning", True, Decimal("70"), True, ("1", 0)),
        ("midday", True, Decimal("69"), True, ("1", 1)),
        ("full", False, None, False, None),
        ("closed", False, None, False, None),
        ("evening", False, None, False, None),
    ]
    assert [[r.code.value for r in o.reasons] for o in offers] == [
        ["fits", "green"],
        ["fits", "green"],
        ["full"],
        ["closed"],
        ["no_route"],
    ]
    assert offers[3].reasons[0].text == "orders for this window closed at 2026-12-01 04:00:00+01:00"


def test_a_stop_far_from_every_route_pays_the_capped_surcharge() -> None:
    far = BookedStop("new", Point(60.05, 11.0), 5, at(0), at(0), 180.0)
    offers = offer_slots(day_with_one_route(), far, WINDOWS[:2], at(5), Pricing())
    assert summary(offers) == [
        ("morning", True, Decimal("159"), False, ("1", 0)),
        ("midday", True, Decimal("159"), False, ("1", 2)),
    ]
    assert offers[1].reasons[1].text == "35.1 km extra driving"


def test_a_parcel_over_the_used_van_room_opens_the_idle_van_at_a_surcharge() -> None:
    heavy = BookedStop("new", Point(59.915, 10.725), 95, at(0), at(0), 180.0)
    [offer] = offer_slots(day_with_one_route(), heavy, WINDOWS[1:2], at(5), Pricing())
    # Van 1 carries 20 kg already, so only the idle van 2 (fixed cost 10 km) can take 95 kg.
    assert (offer.offered, offer.insertion.vehicle, offer.price) == (True, "2", Decimal("159"))
    assert offer.insertion.cost > 10.0


def test_sequences_are_edited_and_loads_counted() -> None:
    day = day_with_one_route()
    assert day.sequences() == {"1": ["a", "b"]}
    placed = insert_stop(day.sequences(), Insertion("1", 1, 0.0, 0.0), "c")
    assert placed == {"1": ["a", "c", "b"]}
    assert insert_stop(placed, Insertion("2", 0, 0.0, 0.0), "d") == {"1": ["a", "c", "b"], "2": ["d"]}
    assert remove_stops({"1": ["a", "c", "b"], "2": ["d"]}, {"c", "d"}) == {"1": ["a", "b"]}
    assert vehicle_loads(day.problem, {"1": ["a", "b"], "9": ["zzz"]}) == {"1": 20, "2": 0}


def test_stored_sequences_drop_unknown_stops_and_leave_missing_ones_unassigned() -> None:
    vans = [Van("1", 100, at(8), at(16))]
    stops = [BookedStop("a", Point(59.91, 10.75), 10, at(10), at(12), 180.0)]
    stops.append(BookedStop("b", Point(59.92, 10.70), 10, at(10), at(12), 180.0))
    day = build_day(
        at(0), Point(59.95, 10.85), (at(7), at(21)), vans, stops, {"1": ["x", "a"], "7": ["b"]}, TravelModel()
    )
    assert day.sequences() == {"1": ["a"]}
    assert day.plan.unassigned == ("b",)


def test_carrier_handover_waits_for_the_next_business_day_cutoff() -> None:
    assert next_handover(datetime(2026, 12, 4, 14, tzinfo=OSLO), time(15), OSLO, "NO") == datetime(
        2026, 12, 4, 15, tzinfo=OSLO
    )
    assert next_handover(datetime(2026, 12, 4, 16, tzinfo=OSLO), time(15), OSLO, "NO") == datetime(
        2026, 12, 7, 15, tzinfo=OSLO
    )
    # Christmas Day and Boxing Day are public holidays in Norway.
    assert next_handover(datetime(2026, 12, 25, 10, tzinfo=OSLO), time(15), OSLO, "NO") == datetime(
        2026, 12, 28, 15, tzinfo=OSLO
    )


def test_carrier_offers_promise_from_the_transit_table_and_predict_p_on_time() -> None:
    services = [
        CarrierService("bring", "standard", "Bring", Decimal("79"), "NOK", time(15), 1),
        CarrierService("postnord", "parcel", "PostNord", Decimal("69"), "NOK", time(14), 3),
    ]
    origin, destination = Place("NO", "0150", 59.9, 10.7), Place("NO", "5003", 60.39, 5.32)
    offers = offer_carriers(
        services,
        origin,
        destination,
        datetime(2026, 12, 1, 9, tzinfo=OSLO),
        OSLO,
        default_model().predict_many,
    )
    assert [
        (o.service.carrier, o.handover_at, o.promised_date, o.earliest, o.expected, o.latest, o.p_on_time)
        for o in offers
    ] == [
        ("bring", at(15), date(2026, 12, 2), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 7), 0.316),
        (
            "postnord",
            at(14),
            date(2026, 12, 4),
            date(2026, 12, 2),
            date(2026, 12, 3),
            date(2026, 12, 7),
            0.865,
        ),
    ]
    assert offers[0].reasons[0] == "handed to bring at 2026-12-01T15:00:00+01:00; 1 business days"


def test_prepared_gaps_find_the_same_insertions_as_the_exact_test() -> None:
    kinds = set()
    for seed in range(6):
        rng = random.Random(seed)
        vans = [
            Van(
                str(k),
                rng.choice([60, 100, 200]),
                at(rng.choice([7, 8, 9])),
                at(rng.choice([15, 17, 21])),
                5.0 + 5.0 * (k % 2),
            )
            for k in range(4)
        ]
        starts = [rng.choice([8, 10, 12, 14]) for _ in range(40)]
        stops = [
            BookedStop(
                f"s{k}",
                Point(rng.uniform(59.85, 59.98), rng.uniform(10.6, 10.95)),
                rng.randint(1, 5),
                at(h),
                at(h + 2),
                180.0,
            )
            for k, h in enumerate(starts)
        ]
        order = list(range(40))
        rng.shuffle(order)
        # Three vans take a third of the stops each, by window; the fourth stays idle.
        sequences = {
            v.id: [f"s{k}" for k in sorted(order[i::3], key=starts.__getitem__)]
            for i, v in enumerate(vans[:3])
        }
        depot, hours = Point(59.93, 10.84), (at(7), at(21))
        day = build_day(at(0), depot, hours, vans, stops, sequences, TravelModel())
        windows = [(at(h), at(h + 2)) for h in range(8, 20, 2)]
        for _ in range(10):
            new = BookedStop(
                "new",
                Point(rng.uniform(59.85, 59.98), rng.uniform(10.6, 10.95)),
                rng.randint(1, 40),
                at(0),
                at(0),
                180.0,
            )
            extended = build_day(at(0), depot, hours, vans, [*stops, new], sequences, TravelModel())
            new_stop = extended.problem.stops[-1]
            expected = best_insertions(
                extended.problem, day.plan, new_stop, [day.window(s, e) for s, e in windows]
            )
            found, depot_km = day.insertions(new, windows)
            assert depot_km == pytest.approx(extended.problem.distances[0][new_stop.location])
            assert [(i.vehicle, i.position) if i else None for i in found] == [
                (i.vehicle, i.position) if i else None for i in expected
            ]
            assert [i.cost if i else None for i in found] == pytest.approx(
                [i.cost if i else None for i in expected]
            )
            kinds |= {"none" if i is None else "route" if i.vehicle in sequences else "idle" for i in found}
    assert kinds == {"route", "idle", "none"}  # into routes, opening a van, and no room all occur
