"""The carrier code → normalised status tables as Markdown, generated from the adapters' own tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from carriers import aftership, bring, dhl, easypost, fedex, gls, postnord, thailandpost, ups, usps
from carriers.normalize import Code

# (carrier, field the codes come from, table), in the order the README lists them.
TABLES: list[tuple[str, str, Mapping[str, Code]]] = [
    ("bring", "`eventSet[].status`", bring.CODES),
    ("postnord", "`status` (shipment / item / event)", postnord.STATUSES),
    ("postnord", "`eventCode` refinements", postnord.EVENT_CODES),
    ("dhl", "`events[].statusCode`", dhl.CODES),
    ("ups", "`activity.status.type`", ups.TYPES),
    ("ups", "`activity.status.statusCode` refinements", ups.STATUS_CODES),
    ("fedex", "`scanEvents[].eventType`", fedex.EVENT_TYPES),
    ("fedex", "`derivedStatusCode` fallback", fedex.DERIVED),
    ("usps", "`trackingEvents[].eventCode`", usps.EVENT_CODES),
    ("usps", "`statusCategory` / `eventType`", usps.CATEGORIES),
    ("gls", "parcel `status`", gls.PARCEL_STATUSES),
    ("gls", "`events[].code`", gls.EVENT_CODES),
    ("gls", "`events[].code` group prefix", gls.EVENT_GROUPS),
    ("thailandpost", "`status`", thailandpost.CODES),
    ("easypost", "tracker / detail `status`", easypost.STATUSES),
    ("aftership", "`tag`", aftership.TAGS),
    ("aftership", "`subtag`", aftership.SUBTAGS),
]

START, END = "<!-- mapping-tables:start -->", "<!-- mapping-tables:end -->"


def _meaning(code: Code) -> str:
    if code.status is None:
        return "informational (status kept)"
    return f"`{code.status.value}`" + (f" ({code.reason.value})" if code.reason else "")


def mapping_markdown() -> str:
    """Every table as Markdown: codes grouped by what they normalise to."""
    parts = [START]
    for carrier, source, table in TABLES:
        grouped: dict[str, list[str]] = defaultdict(list)
        for raw, code in table.items():
            grouped[_meaning(code)].append(f"`{raw}`")
        rows = "\n".join(f"| {', '.join(codes)} | {meaning} |" for meaning, codes in grouped.items())
        parts.append(f"**{carrier}**: {source}\n\n| carrier code | normalised |\n|---|---|\n{rows}\n")
    parts.append("Any other code: `unknown` with a warning; it never changes the shipment's status.\n" + END)
    return "\n".join(parts)
