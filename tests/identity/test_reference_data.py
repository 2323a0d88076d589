"""The Welsh reference data file: shape, closed vocabularies and the facts routing relies on.

Pure: reads `app/identity/reference_data.json` through importlib.resources, no database.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from importlib import resources
from typing import Any

import pytest

SECTORS = {"police", "health", "local_authority", "charity", "home_office", "decision_unit"}
ONS_CODE = re.compile(r"^W06\d{6}$")

# The 22 principal councils by their 2009+ ONS codes; W06000007 and W06000017 are unused.
EXPECTED_ONS_CODES = {f"W060000{n:02d}" for n in range(1, 25)} - {"W06000007", "W06000017"}


@cache
def _data() -> dict[str, Any]:
    text = resources.files("app.identity").joinpath("reference_data.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _organisations() -> list[dict[str, Any]]:
    organisations: list[dict[str, Any]] = _data()["organisations"]
    return organisations


def _local_authorities() -> list[dict[str, Any]]:
    local_authorities: list[dict[str, Any]] = _data()["local_authorities"]
    return local_authorities


def _by_code() -> dict[str, dict[str, Any]]:
    return {org["code"]: org for org in _organisations()}


def _council(ons_code: str) -> dict[str, Any]:
    return next(la for la in _local_authorities() if la["ons_code"] == ons_code)


def _sector_count(sector: str) -> int:
    return sum(1 for org in _organisations() if org["sector"] == sector)


class TestLocalAuthorities:
    def test_lists_the_twenty_two_welsh_councils(self) -> None:
        assert len(_local_authorities()) == 22

    def test_ons_codes_are_unique_and_well_formed(self) -> None:
        codes = [la["ons_code"] for la in _local_authorities()]
        assert len(set(codes)) == len(codes)
        assert all(ONS_CODE.match(code) for code in codes)

    def test_ons_codes_are_exactly_the_welsh_unitary_authority_series(self) -> None:
        assert {la["ons_code"] for la in _local_authorities()} == EXPECTED_ONS_CODES

    def test_cardiff_is_w06000015(self) -> None:
        cardiff = _council("W06000015")
        assert (cardiff["name"], cardiff["name_cy"]) == ("Cardiff", "Caerdydd")

    def test_every_council_has_an_english_and_a_welsh_name(self) -> None:
        for la in _local_authorities():
            assert la["name"].strip(), la
            assert la["name_cy"].strip(), la

    @pytest.mark.parametrize(
        ("field", "sector"), [("police_force", "police"), ("health_board", "health")]
    )
    def test_each_council_points_at_an_organisation_of_the_right_sector(
        self, field: str, sector: str
    ) -> None:
        organisations = _by_code()
        for la in _local_authorities():
            assert organisations[la[field]]["sector"] == sector, la

    def test_every_police_force_and_health_board_covers_some_council(self) -> None:
        forces = {la["police_force"] for la in _local_authorities()}
        boards = {la["health_board"] for la in _local_authorities()}
        assert len(forces) == 4
        assert len(boards) == 7

    @pytest.mark.parametrize(
        ("ons_code", "police_force", "health_board"),
        [
            # Bridgend moved from Abertawe Bro Morgannwg to Cwm Taf Morgannwg in April 2019.
            ("W06000013", "south-wales-police", "cwm-taf-morgannwg-uhb"),
            # Caerphilly is policed by Gwent although half of it was in Mid Glamorgan.
            ("W06000018", "gwent-police", "aneurin-bevan-uhb"),
            ("W06000023", "dyfed-powys-police", "powys-teaching-hb"),
            ("W06000001", "north-wales-police", "betsi-cadwaladr-uhb"),
            ("W06000009", "dyfed-powys-police", "hywel-dda-uhb"),
            ("W06000011", "south-wales-police", "swansea-bay-uhb"),
        ],
    )
    def test_records_the_force_and_board_that_actually_cover_the_council(
        self, ons_code: str, police_force: str, health_board: str
    ) -> None:
        council = _council(ons_code)
        assert (council["police_force"], council["health_board"]) == (police_force, health_board)


class TestOrganisations:
    def test_codes_are_unique(self) -> None:
        codes = Counter(org["code"] for org in _organisations())
        assert [code for code, n in codes.items() if n > 1] == []

    @pytest.mark.parametrize("field", ["name", "name_cy"])
    def test_every_organisation_has_an_english_and_a_welsh_name(self, field: str) -> None:
        for org in _organisations():
            assert isinstance(org[field], str), org
            assert org[field].strip(), org

    def test_sectors_come_from_the_closed_list(self) -> None:
        assert {org["sector"] for org in _organisations()} <= SECTORS

    def test_has_the_four_welsh_police_forces(self) -> None:
        assert _sector_count("police") == 4

    def test_has_the_seven_health_boards(self) -> None:
        assert _sector_count("health") == 7

    def test_has_a_representative_set_of_charities(self) -> None:
        assert 5 <= _sector_count("charity") <= 7
        assert "bawso" in _by_code()

    def test_has_exactly_one_all_wales_decision_unit(self) -> None:
        units = [org for org in _organisations() if org["code"] == "all-wales-decision-unit"]
        assert len(units) == 1
        assert units[0]["sector"] == "decision_unit"
        assert units[0]["local_authority"] is None

    def test_ships_no_child_decision_panels(self) -> None:
        # DESIGN §3: a child goes to a council's panel only where that council runs one; the
        # shipped data must not assume any council does.
        units = [org for org in _organisations() if org["sector"] == "decision_unit"]
        assert [org["code"] for org in units] == ["all-wales-decision-unit"]

    def test_every_council_is_an_organisation_linked_to_its_own_ons_code(self) -> None:
        councils = {
            org["code"]: org for org in _organisations() if org["sector"] == "local_authority"
        }
        assert set(councils) == EXPECTED_ONS_CODES
        assert all(org["local_authority"] == code for code, org in councils.items())

    def test_only_councils_are_linked_to_a_local_authority(self) -> None:
        linked = [org for org in _organisations() if org.get("local_authority") is not None]
        assert all(org["sector"] == "local_authority" for org in linked)
