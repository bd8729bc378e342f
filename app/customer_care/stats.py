"""The figures on the staff pages: survey scores and response times, overall and per ISO week (UTC).

Definitions (the tests compute them by hand):
  CSAT    the mean of the 1–5 answers
  NPS     % promoters (9–10) − % detractors (0–6) of the 0–10 answers, from −100 to 100
  CES     the mean of the 1–7 answers (7 = very easy)
  median  the middle value (the mean of the two middle ones for an even count)
  p90     nearest rank: the ⌈0.9·n⌉-th smallest value
Response times are grouped by the week the case was opened: time to first response over the cases answered,
time to resolution over the cases closed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import SupportCase, SurveyResponse

PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6


@dataclass(frozen=True)
class SurveyScores:
    """The scores of a set of answers; the averages and the NPS are None without answers."""

    count: int
    csat: float | None
    nps: float | None
    ces: float | None
    promoters: int
    passives: int
    detractors: int


@dataclass(frozen=True)
class Durations:
    """Median and p90 of a set of durations; None without any."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class ResponseTimes:
    """Cases opened in a period: how many, and their times to first response and to resolution."""

    opened: int
    first_response: Durations
    resolution: Durations


def survey_scores(answers: Iterable[tuple[int, int, int]]) -> SurveyScores:
    """The scores of (csat, nps, ces) answers."""
    rows = list(answers)
    count = len(rows)
    promoters = sum(1 for _, nps, _ in rows if nps >= PROMOTER_FROM)
    detractors = sum(1 for _, nps, _ in rows if nps <= DETRACTOR_UP_TO)
    return SurveyScores(
        count=count,
        csat=statistics.fmean(r[0] for r in rows) if rows else None,
        nps=100 * (promoters - detractors) / count if rows else None,
        ces=statistics.fmean(r[2] for r in rows) if rows else None,
        promoters=promoters,
        passives=count - promoters - detractors,
        detractors=detractors,
    )


def nearest_rank(values: Sequence[timedelta], share: float) -> timedelta:
    """The ⌈share·n⌉-th smallest of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def durations(values: Iterable[timedelta]) -> Durations:
    """Median and p90 (nearest rank) of `values`."""
    items = list(values)
    if not items:
        return Durations(0, None, None)
    return Durations(len(items), statistics.median(items), nearest_rank(items, 0.9))


def week_start(moment: datetime) -> date:
    """The Monday of the ISO week (UTC) `moment` falls in."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def weeks_until(last: date, count: int) -> list[date]:
    """The Mondays of the `count` weeks that end with the week of `last`, oldest first."""
    end = last - timedelta(days=last.weekday())
    return [end - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def week_label(monday: date) -> str:
    """`2026-W48`."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_survey_scores(
    answers: Iterable[tuple[datetime, int, int, int]], weeks: Sequence[date]
) -> list[tuple[date, SurveyScores]]:
    """(answered_at, csat, nps, ces) answers scored per week, for each of `weeks` (Mondays)."""
    buckets: dict[date, list[tuple[int, int, int]]] = {monday: [] for monday in weeks}
    for answered_at, csat, nps, ces in answers:
        bucket = buckets.get(week_start(answered_at))
        if bucket is not None:
            bucket.append((csat, nps, ces))
    return [(monday, survey_scores(rows)) for monday, rows in buckets.items()]


def response_times(cases: Iterable[tuple[datetime, datetime | None, datetime | None]]) -> ResponseTimes:
    """(created_at, first_response_at, resolved_at) of cases: their response and resolution times."""
    rows = list(cases)
    return ResponseTimes(
        opened=len(rows),
        first_response=durations(first - created for created, first, _ in rows if first is not None),
        resolution=durations(resolved - created for created, _, resolved in rows if resolved is not None),
    )


def weekly_response_times(
    cases: Iterable[tuple[datetime, datetime | None, datetime | None]], weeks: Sequence[date]
) -> list[tuple[date, ResponseTimes]]:
    """Response times of the cases opened in each of `weeks` (Mondays)."""
    buckets: dict[date, list] = {monday: [] for monday in weeks}
    for row in cases:
        bucket = buckets.get(week_start(row[0]))
        if bucket is not None:
            bucket.append(row)
    return [(monday, response_times(rows)) for monday, rows in buckets.items()]


def survey_rows(since: datetime, shop_id: int | None = None) -> list[tuple[datetime, int, int, int]]:
    """(answered_at, csat, nps, ces) of the answers since `since` (of one shop, or of all)."""
    query = select(
        SurveyResponse.answered_at, SurveyResponse.csat, SurveyResponse.nps, SurveyResponse.ces
    ).where(SurveyResponse.answered_at >= since)
    if shop_id is not None:
        query = query.where(SurveyResponse.shop_id == shop_id)
    return [tuple(row) for row in db.session.execute(query)]


def case_rows(
    since: datetime, shop_id: int | None = None
) -> list[tuple[datetime, datetime | None, datetime | None]]:
    """(created_at, first_response_at, resolved_at) of the cases opened since `since` (of one shop, or all)."""
    query = select(SupportCase.created_at, SupportCase.first_response_at, SupportCase.resolved_at).where(
        SupportCase.created_at >= since
    )
    if shop_id is not None:
        query = query.where(SupportCase.shop_id == shop_id)
    return [tuple(row) for row in db.session.execute(query)]
