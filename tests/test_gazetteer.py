"""The offline gazetteer: postcode spellings (property-based), names, folding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aggregator.gazetteer import fold, load_gazetteer

GAZ = load_gazetteer()
KNOWN_PC4 = sorted(GAZ.postcodes)
LETTERS = st.text(alphabet="ABCEFGHJKLMNPRTVWXZ", min_size=2, max_size=2)
SPACES = st.sampled_from(["", " ", "\u00a0"])


@given(st.sampled_from(KNOWN_PC4), LETTERS, SPACES, st.sampled_from(["", "Stadhuis, ", "x "]))
def test_pc6_in_any_spelling(pc4: str, letters: str, space: str, before: str) -> None:
    for text in (f"{before}{pc4}{space}{letters} Plaats", f"{before}{pc4}{letters.lower()}"):
        hits = list(GAZ.find_postcodes(text))
        assert [h.postcode for h in hits] == [f"{pc4} {letters}"]
        assert hits[0].area.gemeente_code.startswith("GM")


def test_years_and_room_numbers_are_not_postcodes() -> None:
    assert list(GAZ.find_postcodes("Informatieavond 2027 in de aula")) == []
    assert list(GAZ.find_postcodes("Zaal 2031 in het stadhuis")) == []


def test_fold_ignores_case_accents_apostrophes_and_hyphens() -> None:
    assert fold("'s-Hertogenbosch") == fold("’s Hertogenbosch") == "'s hertogenbosch"
    assert fold("Súdwest-Fryslân") == "sudwest fryslan"


def test_two_zwolles_and_aliases() -> None:
    zwolle = GAZ.lookup("Zwolle")
    assert zwolle is not None and GAZ.municipalities[zwolle.gemeente_code].name == "Zwolle"
    bosch = GAZ.lookup("Den Bosch")
    assert bosch is not None and bosch.gemeente_code == "GM0796"
    assert GAZ.lookup("Twente") is None  # a region, not a place
    assert GAZ.lookup("Hengelo (O.)").gemeente_code == "GM0164"  # type: ignore[union-attr]


def test_nearest_postcode() -> None:
    area = GAZ.nearest_postcode(52.0894, 5.1101)  # Utrecht centre
    assert area is not None and area.gemeente_code == "GM0344"
    assert GAZ.nearest_postcode(48.85, 2.35) is None  # Paris


def test_public_names_beside_the_cbs_names() -> None:
    from aggregator.gazetteer import public_municipality_name

    middelburg = GAZ.municipalities["GM0687"]
    assert (middelburg.name, middelburg.public_name) == ("Middelburg (Z.)", "Middelburg")
    assert public_municipality_name("GM0373") == "Bergen (Noord-Holland)"
    assert public_municipality_name("GM0893") == "Bergen (Limburg)"
    assert public_municipality_name("GM0518") == "Den Haag"
    assert public_municipality_name("GM0164") == "Hengelo"
    assert public_municipality_name("GM9999", "Elders") == "Elders"
    # every public name is unique, and resolves back to its gemeente as a place name
    names = [m.public_name for m in GAZ.municipalities.values()]
    assert len(set(names)) == len(names) == 342
    for m in GAZ.municipalities.values():
        assert GAZ.lookup(m.public_name).gemeente_code == m.code, m  # type: ignore[union-attr]
