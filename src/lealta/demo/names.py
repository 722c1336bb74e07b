"""Customers' countries, names and e-mail addresses, drawn from built-in name lists."""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from lealta.demo.catalogue import COUNTRIES, COUNTRY_SHARES, Ints

_COUNTRY_NAMES = np.array([0, 0, 1, 1, 2, 3, 4, 5])  # Austria borrows German names, Belgium French
_NAMES = (  # (first names, last names) of Germany, France, the Netherlands, Spain, Italy, Poland
    ("Anna,Lena,Julia,Laura,Sophie,Maria,Lukas,Jonas,Felix,Leon,Paul,Jan,Maximilian,Jürgen",
     "Müller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann,Schäfer,Koch"),
    ("Camille,Léa,Manon,Chloé,Emma,Inès,Louis,Hugo,Lucas,Jules,Théo,Gabriel",
     "Martin,Bernard,Dubois,Thomas,Robert,Richard,Petit,Durand,Leroy,Moreau,Lefèvre,Girard"),
    ("Sanne,Emma,Lotte,Fleur,Anouk,Femke,Daan,Sem,Bram,Lars,Thijs,Ruben",
     "de Jong,Jansen,de Vries,van den Berg,Bakker,Visser,Smit,Meijer,de Boer,Mulder,Bos,Vos"),
    ("Lucía,Sofía,Martina,María,Paula,Carmen,Hugo,Mateo,Martín,Pablo,Daniel,Alejandro",
     "García,Rodríguez,González,Fernández,López,Martínez,Sánchez,Pérez,Gómez,Jiménez,Ruiz"),
    ("Giulia,Sofia,Aurora,Alice,Ginevra,Chiara,Leonardo,Francesco,Alessandro,Lorenzo,Mattia",
     "Rossi,Russo,Ferrari,Esposito,Bianchi,Romano,Colombo,Ricci,Marino,Greco,Bruno,Gallo"),
    ("Zuzanna,Julia,Zofia,Hanna,Maja,Katarzyna,Antoni,Jan,Jakub,Aleksander,Franciszek,Łukasz",
     "Nowak,Kowalski,Wiśniewski,Wójcik,Kowalczyk,Kamiński,Lewandowski,Zieliński,Woźniak"),
)  # fmt: skip


def _slug(name: str) -> str:
    plain = name.translate({ord("ł"): "l", ord("Ł"): "L", ord("ß"): "ss"})
    return unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode().lower()


def _name_lists(part: int) -> tuple[list[str], Ints, Ints]:
    """All first (0) or last (1) names, and where each country's list starts and how long it is."""
    lists = [pair[part].split(",") for pair in _NAMES]
    sizes = np.array([len(names) for names in lists])
    flat = [name for names in lists for name in names]
    return flat, (np.cumsum(sizes) - sizes)[_COUNTRY_NAMES], sizes[_COUNTRY_NAMES]


def draw_people(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Country, first and last name (indices into :data:`NAME_LISTS`) and e-mail of customers."""
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_SHARES)
    people: dict[str, Any] = {"country": country}
    slugs = []
    for key, (flat, start, size) in zip(("first_name", "last_name"), NAME_LISTS, strict=True):
        people[key] = start[country] + (rng.random(n) * size[country]).astype(np.int64)
        slugs.append(pa.array([_slug(name).replace(" ", "") for name in flat]).take(people[key]))
    first, last = slugs
    local = pc.choose(
        pa.array(rng.choice(3, size=n, p=[0.5, 0.3, 0.2])),
        pc.binary_join_element_wise(first, last, "."),
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(first, 0, 1), last, ""),
        pc.binary_join_element_wise(first, last, "_"),
    )
    # the trailing customer number makes each address unique, as slugs hold no digits
    number = pa.array(np.arange(1, n + 1)).cast(pa.string())
    people["email"] = pc.binary_join_element_wise(local, number, "@example.com", "")
    return people


#: (names, start, size) of the first names, then of the last names; ``start`` and ``size``
#: give each country's part of ``names``, in the order of :data:`COUNTRIES`.
NAME_LISTS = (_name_lists(0), _name_lists(1))
