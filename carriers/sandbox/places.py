"""Realistic places and routes in each sandbox carrier's home network."""

from __future__ import annotations

from dataclasses import dataclass

from carriers.sandbox.scenarios import Where

# alpha-2 -> (alpha-3, English name); PostNord reports alpha-3, the others alpha-2.
COUNTRIES: dict[str, tuple[str, str]] = {
    "NO": ("NOR", "Norway"),
    "SE": ("SWE", "Sweden"),
    "DK": ("DNK", "Denmark"),
    "DE": ("DEU", "Germany"),
    "AT": ("AUT", "Austria"),
    "HK": ("HKG", "Hong Kong"),
    "US": ("USA", "United States"),
    "CA": ("CAN", "Canada"),
    "CN": ("CHN", "China"),
    "TH": ("THA", "Thailand"),
    "JP": ("JPN", "Japan"),
}


@dataclass(frozen=True)
class Place:
    """A carrier site or address; `tz` gives the local offset of scans made there."""

    name: str
    city: str
    postcode: str
    country: str  # ISO alpha-2
    tz: str
    site_id: str = ""
    state: str = ""
    local_name: str = ""  # name in the local script, where the carrier shows it (Thailand Post TH)
    street: str = ""  # pickup points: the carriers that describe them give their street

    @property
    def country_alpha3(self) -> str:
        """ISO alpha-3 country code."""
        return COUNTRIES[self.country][0]

    @property
    def country_name(self) -> str:
        """English country name."""
        return COUNTRIES[self.country][1]


@dataclass(frozen=True)
class Route:
    """Where a parcel goes: sender, two hubs, customs when cross-border, recipient, pickup point."""

    origin: Place
    hub_a: Place
    hub_b: Place
    destination: Place
    pickup_point: Place
    customs: Place | None = None

    @property
    def cross_border(self) -> bool:
        """True when the parcel clears customs."""
        return self.customs is not None

    def place(self, where: Where) -> Place:
        """The place a step happens at."""
        found = getattr(self, where.value)
        if found is None:
            raise ValueError(f"route has no {where.value}")
        return found


OSL, STO, BER = "Europe/Oslo", "Europe/Stockholm", "Europe/Berlin"
NYC, CHI, LAX, BKK = "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Bangkok"
ALNABRU = Place("Terminal Alnabru", "OSLO", "0668", "NO", OSL, "032850")
SEGELTORP = Place("SEGELTORP PAKETTERMINAL", "SEGELTORP", "14105", "SE", STO, "126")
LEIPZIG = Place("Leipzig Hub", "Leipzig", "04435", "DE", BER, "LEJ")
NEUENSTEIN = Place("GLS Hub Neuenstein", "Neuenstein", "36286", "DE", BER, "HUB36")
LAK_SI = Place("Lak Si Mail Center", "Bangkok", "10210", "TH", BKK, "10020", local_name="ศป.หลักสี่")

ROUTES: dict[str, tuple[Route, ...]] = {
    "bring": (
        Route(
            Place("Posten Oslo sentrum", "OSLO", "0150", "NO", OSL, "010150"),
            ALNABRU,
            Place("Terminal Tiller", "TILLER", "7093", "NO", OSL, "032845"),
            Place("Trondheim", "TRONDHEIM", "7010", "NO", OSL, "971190"),
            Place("Coop Extra Solsiden", "TRONDHEIM", "7014", "NO", OSL, "122608", street="Beddingen 10"),
        ),
        Route(
            Place("Bergen", "BERGEN", "5003", "NO", OSL, "105003"),
            Place("Terminal Bergen", "BLOMSTERDALEN", "5257", "NO", OSL, "032870"),
            ALNABRU,
            Place("Hamar", "HAMAR", "2317", "NO", OSL, "971230"),
            Place("Spar Hamar", "HAMAR", "2317", "NO", OSL, "122950", street="Torggata 40"),
        ),
        Route(
            Place("Göteborg", "GÖTEBORG", "41104", "SE", STO, "SE41104"),
            Place("Terminal Göteborg", "GÖTEBORG", "42246", "SE", STO, "SE42246"),
            ALNABRU,
            Place("Oslo", "OSLO", "0157", "NO", OSL, "971100"),
            Place("Narvesen Jernbanetorget", "OSLO", "0154", "NO", OSL, "122001", street="Jernbanetorget 1"),
            customs=Place("Tollsted Svinesund", "TISTEDALEN", "1792", "NO", OSL, "032890"),
        ),
    ),
    "postnord": (
        Route(
            Place("STOCKHOLM", "STOCKHOLM", "11120", "SE", STO, "500100"),
            SEGELTORP,
            Place("GÖTEBORG PAKETTERMINAL", "GÖTEBORG", "42131", "SE", STO, "164"),
            Place("GÖTEBORG", "GÖTEBORG", "41104", "SE", STO, "41104"),
            Place("ICA KVANTUM HÖGSBO", "GÖTEBORG", "42132", "SE", STO, "571233", street="Ostindiegatan 2"),
        ),
        Route(
            Place("MALMÖ", "MALMÖ", "21119", "SE", STO, "500200"),
            Place("MALMÖ PAKETTERMINAL", "MALMÖ", "21376", "SE", STO, "181"),
            SEGELTORP,
            Place("SOLNA", "SOLNA", "17145", "SE", STO, "17145"),
            Place("HEMKÖP SOLNA C", "SOLNA", "17145", "SE", STO, "570173", street="Postgången 40"),
        ),
        Route(
            Place("KØBENHAVN", "KØBENHAVN", "1620", "DK", "Europe/Copenhagen", "2000"),
            Place("BRØNDBY PAKKETERMINAL", "BRØNDBY", "2605", "DK", "Europe/Copenhagen", "2050"),
            SEGELTORP,
            Place("STOCKHOLM", "STOCKHOLM", "12067", "SE", STO, "12067"),
            Place("DIREKTEN HAMMARBY", "STOCKHOLM", "12067", "SE", STO, "500285", street="Hammarby allé 93"),
        ),
    ),
    "dhl": (
        Route(
            Place("Bonn", "Bonn", "53113", "DE", BER),
            Place("Paketzentrum Köln-Eifeltor", "Köln", "50997", "DE", BER),
            Place("Paketzentrum Börnicke", "Börnicke", "16321", "DE", BER),
            Place("Berlin", "Berlin", "10115", "DE", BER),
            Place("Postfiliale 502", "Berlin", "10115", "DE", BER),
        ),
        Route(
            Place("Hong Kong", "Hong Kong", "", "HK", "Asia/Hong_Kong"),
            Place("Hong Kong Central Asia Hub", "Hong Kong", "", "HK", "Asia/Hong_Kong"),
            LEIPZIG,
            Place("München", "München", "80331", "DE", BER),
            Place("DHL Paketshop Marienplatz", "München", "80331", "DE", BER),
            customs=LEIPZIG,
        ),
    ),
    "ups": (
        Route(
            Place("ATLANTA", "ATLANTA", "30303", "US", NYC, state="GA"),
            Place("Atlanta Hub", "ATLANTA", "30336", "US", NYC, "3033", "GA"),
            Place(
                "Louisville Worldport",
                "LOUISVILLE",
                "40209",
                "US",
                "America/Kentucky/Louisville",
                "4020",
                "KY",
            ),
            Place("CHICAGO", "CHICAGO", "60601", "US", CHI, state="IL"),
            Place("The UPS Store 4521", "CHICAGO", "60602", "US", CHI, "6060", "IL", street="29 N Wacker Dr"),
        ),
        Route(
            Place("TORONTO", "TORONTO", "M5H 2N2", "CA", "America/Toronto", state="ON"),
            Place("Concord", "CONCORD", "L4K 4X4", "CA", "America/Toronto", "L4K1", "ON"),
            Place("Secaucus", "SECAUCUS", "07094", "US", NYC, "0709", "NJ"),
            Place("NEW YORK", "NEW YORK", "10001", "US", NYC, state="NY"),
            Place(
                "UPS Access Point Duane Reade",
                "NEW YORK",
                "10001",
                "US",
                NYC,
                "1000",
                "NY",
                street="350 5th Ave",
            ),
            customs=Place(
                "Louisville Worldport",
                "LOUISVILLE",
                "40209",
                "US",
                "America/Kentucky/Louisville",
                "4020",
                "KY",
            ),
        ),
    ),
    "fedex": (
        Route(
            Place("SEATTLE", "SEATTLE", "98101", "US", LAX, state="WA"),
            Place("FedEx Ground Kent", "KENT", "98032", "US", LAX, "KENT", "WA"),
            Place("FedEx World Hub", "MEMPHIS", "38118", "US", CHI, "MEM", "TN"),
            Place("NASHVILLE", "NASHVILLE", "37203", "US", CHI, state="TN"),
            Place(
                "FedEx Office Print & Ship Center",
                "NASHVILLE",
                "37203",
                "US",
                CHI,
                "BNAOF",
                "TN",
                street="401 Church St",
            ),
        ),
        Route(
            Place("GUANGZHOU", "GUANGZHOU", "510000", "CN", "Asia/Shanghai"),
            Place("FedEx Asia Pacific Hub", "GUANGZHOU", "510470", "CN", "Asia/Shanghai", "CAN"),
            Place(
                "FedEx Indianapolis Hub",
                "INDIANAPOLIS",
                "46241",
                "US",
                "America/Indiana/Indianapolis",
                "IND",
                "IN",
            ),
            Place("COLUMBUS", "COLUMBUS", "43215", "US", NYC, state="OH"),
            Place("FedEx Ship Center", "COLUMBUS", "43215", "US", NYC, "CMHSC", "OH", street="180 N High St"),
            customs=Place(
                "INDIANAPOLIS", "INDIANAPOLIS", "46241", "US", "America/Indiana/Indianapolis", "IND", "IN"
            ),
        ),
    ),
    "usps": (
        Route(
            Place("BROOKLYN", "BROOKLYN", "11201", "US", NYC, state="NY"),
            # Distribution centres come without state or ZIP in real USPS answers.
            Place("BROOKLYN NY DISTRIBUTION CENTER", "BROOKLYN NY DISTRIBUTION CENTER", "", "US", NYC),
            Place("QUEENS NY DISTRIBUTION CENTER", "QUEENS NY DISTRIBUTION CENTER", "", "US", NYC),
            Place("JAMAICA", "JAMAICA", "11432", "US", NYC, state="NY"),
            Place("JAMAICA POST OFFICE", "JAMAICA", "11431", "US", NYC, state="NY"),
        ),
        Route(
            Place("DENVER", "DENVER", "80202", "US", "America/Denver", state="CO"),
            Place(
                "DENVER CO DISTRIBUTION CENTER", "DENVER CO DISTRIBUTION CENTER", "", "US", "America/Denver"
            ),
            Place(
                "SALT LAKE CITY UT DISTRIBUTION CENTER",
                "SALT LAKE CITY UT DISTRIBUTION CENTER",
                "",
                "US",
                "America/Denver",
            ),
            Place("BOISE", "BOISE", "83702", "US", "America/Boise", state="ID"),
            Place("BOISE POST OFFICE", "BOISE", "83708", "US", "America/Boise", state="ID"),
        ),
    ),
    "gls": (
        Route(
            Place("Hamburg", "Hamburg", "20095", "DE", BER),
            Place("GLS Depot Hamburg", "Hamburg", "22113", "DE", BER, "DE2210"),
            NEUENSTEIN,
            Place("Berlin", "Berlin", "10437", "DE", BER),
            Place("GLS PaketShop Kastanienallee", "Berlin", "10435", "DE", BER, "2760000123"),
        ),
        Route(
            Place("Wien", "Wien", "1010", "AT", "Europe/Vienna"),
            Place("GLS Depot Wien", "Wien", "2333", "AT", "Europe/Vienna", "AT2333"),
            NEUENSTEIN,
            Place("Frankfurt am Main", "Frankfurt am Main", "60311", "DE", BER),
            Place("GLS PaketShop Zeil", "Frankfurt am Main", "60313", "DE", BER, "2760000456"),
        ),
    ),
    "thailandpost": (
        Route(
            Place("Kad Suan Kaew", "Chiang Mai", "00131", "TH", BKK, local_name="คต.กาดสวนแก้ว"),
            Place("Chiang Mai Mail Center", "Chiang Mai", "50000", "TH", BKK, local_name="ศป.เชียงใหม่"),
            LAK_SI,
            Place("Lat Phrao Post Office", "Bangkok", "10230", "TH", BKK, local_name="ปณ.ลาดพร้าว"),
            Place("Lat Phrao Post Office", "Bangkok", "10230", "TH", BKK, local_name="ปณ.ลาดพร้าว"),
        ),
        Route(
            Place("Tokyo", "Tokyo", "100-0001", "JP", "Asia/Tokyo", local_name="โตเกียว"),
            Place(
                "Tokyo International Post Office",
                "Tokyo",
                "135-0064",
                "JP",
                "Asia/Tokyo",
                local_name="โตเกียว",
            ),
            LAK_SI,
            Place("Bang Rak Post Office", "Bangkok", "10500", "TH", BKK, local_name="ปณ.บางรัก"),
            Place("Bang Rak Post Office", "Bangkok", "10500", "TH", BKK, local_name="ปณ.บางรัก"),
            customs=Place(
                "Bangkok International Mail Processing Center",
                "Bangkok",
                "10210",
                "TH",
                BKK,
                local_name="ศป.ระหว่างประเทศ หลักสี่",
            ),
        ),
    ),
}
