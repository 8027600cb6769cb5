"""Reading a shared location: what Matrix sends as a geo URI, and what is stored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.events import Location


@pytest.mark.parametrize(("uri", "expected"), [
    ("geo:52.0907,5.1214", Location(52.0907, 5.1214)),
    ("geo:52.0907,5.1214;u=35", Location(52.0907, 5.1214)),
    ("GEO:-33.86,151.2,12", Location(-33.86, 151.2)),
    (" geo:0,0 ", Location(0.0, 0.0)),
])
def test_a_geo_uri_is_read(uri: str, expected: Location) -> None:
    assert Location.from_geo_uri(uri) == expected


@pytest.mark.parametrize("uri", [
    "", "geo:", "geo:52.1", "geo:abc,def", "geo:91,5", "geo:52,181", "geo:nan,5",
    "geo:inf,5", "https://maps.example/?q=52,5", "52.1,5.2",
])
def test_a_geo_uri_that_is_not_a_place_is_refused(uri: str) -> None:
    assert Location.from_geo_uri(uri) is None


@given(st.text(max_size=40))
def test_any_text_as_geo_uri_never_raises(uri: str) -> None:
    place = Location.from_geo_uri(uri)
    assert place is None or (-90 <= place.latitude <= 90 and -180 <= place.longitude <= 180)


def test_what_is_stored_reads_back_and_links_to_the_map() -> None:
    place = Location(52.0907, 5.1214)
    assert Location.from_body(place.as_body()) == place
    assert Location.from_body({"latitude": "x"}) is None and Location.from_body(None) is None
    assert place.map_link == ("https://www.openstreetmap.org/?mlat=52.090700&mlon=5.121400"
                              "#map=17/52.090700/5.121400")
