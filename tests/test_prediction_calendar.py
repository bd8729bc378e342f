from __future__ import annotations

from datetime import date

from planning.calendar import add_business_days, business_days_between, holiday_name, is_business_day


def test_norwegian_constitution_day_and_whit_monday_are_skipped():
    assert not is_business_day(date(2024, 5, 17), ["NO"])
    assert add_business_days(date(2024, 5, 16), 1, ["NO"]) == date(2024, 5, 21)
    assert holiday_name(date(2024, 5, 17), "no") == "Constitution Day"


def test_danish_great_prayer_day_until_its_abolition():
    assert not is_business_day(date(2023, 5, 5), ["DK"])
    assert is_business_day(date(2023, 5, 5), ["NO"])
    assert is_business_day(date(2024, 4, 26), ["DK"])


def test_thai_songkran_week():
    # 12 Apr bridge holiday, 13–14 weekend and Songkran, 15 Songkran, 16 in lieu: only the 17th works.
    assert business_days_between(date(2024, 4, 12), date(2024, 4, 18), ["TH"]) == 1
    assert add_business_days(date(2024, 4, 11), 1, ["TH"]) == date(2024, 4, 17)


def test_lane_calendar_closes_on_either_countrys_holidays():
    assert business_days_between(date(2024, 5, 13), date(2024, 5, 20), ["DK"]) == 5
    assert business_days_between(date(2024, 5, 13), date(2024, 5, 20), ["DK", "NO"]) == 4


def test_unknown_country_has_weekends_only():
    assert business_days_between(date(2024, 12, 23), date(2024, 12, 30), ["XX"]) == 5
    assert add_business_days(date(2024, 12, 28), 0, ["XX"]) == date(2024, 12, 30)
