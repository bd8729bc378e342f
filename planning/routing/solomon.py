"""Reader for Solomon VRPTW benchmark instances (customer 0 is the depot, travel time = distance)."""

from __future__ import annotations

from pathlib import Path

from planning.routing.model import Depot, Problem, Stop, TimeWindow, Vehicle, euclidean_matrix


class SolomonFormatError(ValueError):
    """The text is not a Solomon instance."""


def parse_solomon(text: str) -> Problem:
    """Parse a Solomon instance: one depot, NUMBER identical vehicles, customers numbered from 1."""
    lines = [line.split() for line in text.splitlines()]
    try:
        vehicle_at = next(i for i, words in enumerate(lines) if words[:1] == ["VEHICLE"])
        number, capacity = (int(w) for w in next(w for w in lines[vehicle_at + 1 :] if w and w[0].isdigit()))
        customer_at = next(i for i, words in enumerate(lines) if words[:1] == ["CUSTOMER"])
        rows = [
            [float(w) for w in words] for words in lines[customer_at + 1 :] if words and words[0].isdigit()
        ]
    except (StopIteration, ValueError) as error:
        raise SolomonFormatError(f"not a Solomon instance: {error}") from error
    if (
        not rows
        or any(len(row) != 7 for row in rows)
        or [int(row[0]) for row in rows] != list(range(len(rows)))
    ):
        raise SolomonFormatError("customer rows must have 7 numbers and be numbered 0, 1, 2, ...")
    depot = Depot("0", 0, TimeWindow(rows[0][4], rows[0][5]))
    vehicles = tuple(Vehicle(f"v{k}", "0", capacity, depot.hours) for k in range(1, number + 1))
    stops = tuple(
        Stop(str(int(n)), i, int(demand), TimeWindow(ready, due), service)
        for i, (n, _, _, demand, ready, due, service) in enumerate(rows)
        if i > 0
    )
    matrix = euclidean_matrix([(row[1], row[2]) for row in rows])
    return Problem((depot,), vehicles, stops, matrix, matrix)


def read_solomon(path: str | Path) -> Problem:
    """Read a Solomon instance file."""
    return parse_solomon(Path(path).read_text())
