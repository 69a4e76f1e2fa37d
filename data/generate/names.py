"""Company names and domains: the word lists, and how a name and its domain are drawn.

Shared by the companies and by the CRM accounts for organisations outside the dataset.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import polars as pl

from .common import (
    COUNTRIES,
    INDUSTRIES,
    TECH_INDUSTRIES,
    choose,
    labels,
    pick_by_group,
    slug_expr,
    stream_rng,
)

# The country's own TLD, used by about half of its non-.com companies.
COUNTRY_TLD = {
    "GB": "co.uk",
    "CA": "ca",
    "DE": "de",
    "FR": "fr",
    "AU": "com.au",
    "NL": "nl",
    "IN": "in",
    "SE": "se",
    "ES": "es",
    "IT": "it",
    "BR": "com.br",
    "JP": "co.jp",
    "IE": "ie",
    "SG": "com.sg",
    "CH": "ch",
    "DK": "dk",
    "NO": "no",
    "FI": "fi",
    "BE": "be",
    "PL": "pl",
    "MX": "com.mx",
    "IL": "co.il",
    "NZ": "co.nz",
    "AT": "at",
}

# Legal suffixes by country, with alternative spellings a CRM might hold instead.
LEGAL_SUFFIXES: dict[str, tuple[str, ...]] = {
    "Inc.": ("Inc", "Incorporated", "INC"),
    "Inc": ("Inc.", "Incorporated"),
    "LLC": ("L.L.C.", "Llc"),
    "Corp.": ("Corporation", "Corp"),
    "Ltd": ("Limited", "Ltd."),
    "Limited": ("Ltd", "Ltd."),
    "PLC": ("plc", "Public Limited Company"),
    "LLP": ("L.L.P.",),
    "GmbH": ("G.m.b.H.", "Gmbh"),
    "AG": ("A.G.",),
    "SAS": ("S.A.S.",),
    "SA": ("S.A.",),
    "Pty Ltd": ("Pty. Ltd.", "Pty Limited"),
    "B.V.": ("BV",),
    "AB": ("Aktiebolag",),
    "S.L.": ("SL",),
    "S.r.l.": ("SRL", "Srl"),
    "S.p.A.": ("SpA",),
    "Ltda.": ("Ltda",),
    "K.K.": ("KK", "Kabushiki Kaisha"),
    "Pte. Ltd.": ("Pte Ltd", "Private Limited"),
    "Pvt. Ltd.": ("Private Limited", "Pvt Ltd"),
    "ApS": ("A/S",),
    "AS": ("A/S",),
    "Oy": ("OY",),
    "BV": ("B.V.",),
    "sp. z o.o.": ("Sp. z o.o.",),
    "S.A. de C.V.": ("SA de CV",),
}
# Suffixes that are written after a comma as often as not ("Acme, Inc.").
COMMA_SUFFIXES = ("Inc.", "Inc", "LLC", "Corp.", "Ltd", "Limited", "LLP")
COUNTRY_SUFFIXES: dict[str, dict[str, float]] = {
    "US": {"Inc.": 0.45, "Inc": 0.1, "LLC": 0.3, "Corp.": 0.15},
    "CA": {"Inc.": 0.6, "Ltd": 0.3, "Corp.": 0.1},
    "GB": {"Ltd": 0.6, "Limited": 0.3, "PLC": 0.05, "LLP": 0.05},
    "IE": {"Ltd": 0.6, "Limited": 0.4},
    "DE": {"GmbH": 0.85, "AG": 0.15},
    "AT": {"GmbH": 0.9, "AG": 0.1},
    "CH": {"AG": 0.5, "GmbH": 0.4, "SA": 0.1},
    "FR": {"SAS": 0.7, "SA": 0.3},
    "BE": {"SA": 0.5, "BV": 0.5},
    "AU": {"Pty Ltd": 1.0},
    "NZ": {"Ltd": 0.7, "Limited": 0.3},
    "NL": {"B.V.": 1.0},
    "SE": {"AB": 1.0},
    "ES": {"S.L.": 0.7, "SA": 0.3},
    "IT": {"S.r.l.": 0.7, "S.p.A.": 0.3},
    "BR": {"Ltda.": 0.8, "SA": 0.2},
    "JP": {"K.K.": 1.0},
    "SG": {"Pte. Ltd.": 1.0},
    "IN": {"Pvt. Ltd.": 0.8, "Limited": 0.2},
    "DK": {"ApS": 1.0},
    "NO": {"AS": 1.0},
    "FI": {"Oy": 1.0},
    "PL": {"sp. z o.o.": 1.0},
    "MX": {"S.A. de C.V.": 1.0},
    "IL": {"Ltd": 1.0},
}

# Descriptors that follow the core of a name ("Brightwave *Analytics*"), by industry.
GENERIC_DESCRIPTORS = ("Group", "Solutions", "Holdings", "Company", "Partners")
# A firm named after one person needs something after the name.
SURNAME_DESCRIPTORS = ("& Partners", "& Co", "Group", "Associates", "& Sons", "Brothers")
DESCRIPTORS: dict[str, tuple[str, ...]] = {
    "software": ("Software", "Labs", "Systems", "Technologies", "Analytics", "Cloud", "AI", "Data"),
    "fintech": ("Pay", "Capital", "Financial", "Payments", "Finance", "Money", "Ledger"),
    "healthcare": ("Health", "Medical", "Care", "Clinics", "Healthcare", "Diagnostics"),
    "manufacturing": ("Manufacturing", "Industries", "Components", "Machinery", "Works", "Tooling"),
    "retail": ("Retail", "Stores", "Goods", "Supply", "Outfitters", "Market"),
    "logistics": ("Logistics", "Freight", "Transport", "Shipping", "Cargo", "Fleet"),
    "education": ("Learning", "Education", "Academy", "Tutoring", "Schools"),
    "media": ("Media", "Studios", "Publishing", "Broadcasting", "Pictures"),
    "real estate": ("Properties", "Realty", "Estates", "Real Estate", "Developments"),
    "construction": ("Construction", "Builders", "Contracting", "Build", "Civil"),
    "professional services": ("Consulting", "& Partners", "Advisors", "& Co", "Associates"),
    "telecommunications": ("Telecom", "Networks", "Communications", "Connect", "Wireless"),
    "energy": ("Energy", "Power", "Solar", "Renewables", "Utilities"),
    "hospitality": ("Hotels", "Hospitality", "Resorts", "Restaurants", "Inns"),
    "insurance": ("Insurance", "Assurance", "Underwriters", "Mutual", "Risk"),
    "biotech": ("Bio", "Therapeutics", "Biosciences", "Genomics", "Pharma"),
    "e-commerce": ("Commerce", "Shop", "Marketplace", "Direct", "Store"),
    "cybersecurity": ("Security", "Cyber", "Defense", "Shield", "Secure"),
    "marketing services": ("Marketing", "Agency", "Creative", "Digital", "Growth"),
    "government": ("Public Services", "Services", "Authority", "Agency"),
}


def _words(text: str) -> list[str]:
    return text.split()


# Name cores: English-ish compounds ("Brightwave"), two words ("Blue Harbor"), coined
# brand names ("Zentrix", "Calumora") and surnames ("Harrington").
PREFIX_WORDS = _words(
    """Bright Blue North Nor Silver Iron Clear Swift Red Green Oak Pine Stone Sun Star
True Open Deep High Summit Cedar Maple River Harbor Apex Nova Vertex Quantum Pulse Core Bold
Prime Key Cloud Data Signal Spark Lumen Terra Aero Astra Atlas Echo Ever Fair First Fox Golden
Grand Hawk Horizon Lake Light Meridian Metro Mint Moon Nimbus Orbit Peak Pioneer Quest Rapid
Sage Sky Solid Strata Tide Trail Union Vista Wild Wind Arc Bay Birch Black White Copper Crest
Crystal Dawn Delta East West South Elm Ember Falcon Flint Frost Glen Granite Grove Haven Hill
Ivy Jade Kite Lantern Lark Linden Lumin Marble Mesa Mill Noble Ocean Onyx Opal Orchid Pacific
Pearl Pilot Quill Raven Ridge Rock Rose Ruby Sable Salt Shore Slate Spring Spruce Steel Storm
Sterling Stream Thorn Timber Torch Tower Valley Willow Wolf Zephyr Amber Anchor Beacon Blaze
Brook Canyon Cobalt Coral Fern Field Harbour Indigo Iris Juniper Keystone Laurel Mosaic Nest
Olive Orion Prism Radiant Redwood Sequoia Sierra Summer Vector Velvet Winter Yellow"""
)
SUFFIX_WORDS = _words(
    """wave land stone field point bridge path works light gate line ridge view well ford
wood shore stack loop craft forge base flow scale sight mark grid hub leaf bay rock star peak
vale brook mont way wise bit byte spring port haven crest fall glen side dale worth wick ton
mere moor bank hold keep yard cliff fire sail wing root seed track spire tree water vine
lane cove field"""
)
TWO_WORD_FIRST = _words(
    """Blue Red Green Black White Silver Golden Iron Northern Southern Eastern Western
Great Little Old New Open Clear Bright Quiet Rapid Twin Upper Lower Royal Summit Coastal Prairie
Alpine Harbor Urban Grand High Deep Wild True"""
)
TWO_WORD_SECOND = _words(
    """Harbor Pine Oak River Mountain Valley Bridge Arrow Anchor Lantern Compass
Summit Meadow Falcon Fox Bear Wolf Lion Eagle Raven Hawk Cedar Maple Birch Willow Stone Rock
Ridge Creek Lake Ocean Island Canyon Prairie Forest Garden Orchard Beacon Tower Gate Castle
Crown Shield Star Sun Moon Sky Cloud Tide Wave Ember Flame Spark Key Thread Needle Ledger Quill
Signal Circuit Engine Rocket"""
)
COINED_STARTS = _words(
    """Zen Vol Kor Ax Lum Tri Vel Nex Qua Ori Syn Cal Bri Dra Fen Gal Hal Jun Kal Lor
Mar Nov Pax Rav Sol Tal Ul Ver Wyn Xan Yar Zor Aur Bel Cor Dex Elo Fal Gen Hel Ix Jov Kin Lux
Mor Nim Oct Pol Quin Rho Sen Tor Uni Vex Zy Alt Bex Cyn Dyn Eva Flo Gra Ire Kyr Lyn Myr Nyx Oro
Pyr Rez Sym Tyr Val Wex"""
)
COINED_MIDS = _words("a e i o u ar er en is or an el ol um ex")
COINED_ENDS = _words(
    """x a on ix ia ara ity ify ora us era io eon ent ics ly iq ium ova ano ex
ant ist ica oro yn ux ive ero ada ella ina ora lix nex trix vos zen dia tra via lo"""
)
SURNAMES = _words(
    """Harrington Keller Morrison Whitfield Caldwell Pemberton Ashford Bradley Carver
Donovan Ellison Fairbanks Gallagher Hartley Ingram Jennings Kendall Langley Mercer Norwood
Oakley Prescott Quincy Radcliffe Sinclair Thornton Underwood Vaughn Whitaker Yates Abbott
Barlow Chandler Dempsey Everett Fletcher Garrison Holloway Irving Jefferson Kingsley Lawson
Monroe Nash Osborne Palmer Reynolds Sheridan Talbot Vance Walsh Young Ainsley Beckett
Crawford Dalton Emerson Finch Graham Hastings Hollis Kerr Lockwood Maxwell Newell Parrish
Rowland Stratton Tennyson Wainwright Bishop Cromwell Dunmore Fitzgerald Granger Hayward
Lindqvist Bergstrom Schneider Fischer Weber Becker Hoffmann Richter Dubois Moreau Lefebvre
Rossi Bianchi Ferrari Garcia Fernandez Moreno Silva Santos Costa Tanaka Suzuki Sato Patel
Sharma Mehta Kapoor Jansen Visser Andersen Nielsen Larsen Lindgren Nakamura Okafor"""
)
CORE_FAMILIES = {"compound": 0.48, "coined": 0.37, "two_word": 0.07, "surname": 0.08}
# The listed families hold tens of thousands of cores, enough for the sample but not for
# millions of companies: a family's share is capped so that on average no more than
# CORE_LOAD companies share one of its cores, and the rest of the weight goes to longer
# coined names ("Zenkoranix") built syllable by syllable from some twelve million.
CORE_LOAD = 3.0
LONG_LINK_CONSONANTS = _words("b c d f g k l m n p r s t v z")
LONG_LINK_VOWELS = _words("a e i o u")
LONG_ENDS = _words(
    """x n s r m nix rix lix tix vos ra na la lo tra via dia zen nex trix ris lon ron va
nia sta lyn tos ver"""
)
# Share of cores kept for CRM accounts outside the dataset, so that "not in the dataset"
# stays true however many companies are drawn.
OUTSIDE_SHARE = 0.15


def core_vocabulary(seed: int) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Every name core by family, split into cores for the dataset and cores kept outside.

    Cores are de-duplicated on their lower-case letters (what a domain is made of), so a
    core kept outside never reappears inside, not even as a domain.
    """

    def clash(left: str, right: str) -> bool:
        # Vowel pile-ups ("Evaia", "Zeaio") read as noise, not as brand names.
        return left[-1] in "aeiouy" and right[0] in "aeiouy"

    coined = [a + b for a, b in itertools.product(COINED_STARTS, COINED_ENDS) if not clash(a, b)]
    coined += [
        a + m + b
        for a, m, b in itertools.product(COINED_STARTS, COINED_MIDS, COINED_ENDS)
        if not clash(a, m) and not clash(m, b)
    ]
    families = {
        "compound": [a + b for a, b in itertools.product(PREFIX_WORDS, SUFFIX_WORDS)],
        "coined": coined,
        "two_word": [
            f"{a} {b}" for a, b in itertools.product(TWO_WORD_FIRST, TWO_WORD_SECOND) if a != b
        ],
        # Mostly partnerships ("Keller & Walsh"); single surnames take a descriptor.
        "surname": SURNAMES
        + [f"{a} & {b}" for a, b in itertools.product(SURNAMES, SURNAMES) if a != b],
        # Not cores but the starts of long coined names, split the same way so that the
        # CRM's outside accounts never share a start with the dataset's.
        "coined_long": COINED_STARTS,
    }
    rng = stream_rng(seed, 0)
    seen: set[str] = set()
    inside: dict[str, list[str]] = {}
    outside: dict[str, list[str]] = {}
    for family, cores in families.items():
        unique = []
        for core in cores:
            slug = core.lower().replace(" ", "")
            if slug not in seen:
                seen.add(slug)
                unique.append(core)
        order = rng.permutation(len(unique))
        cut = max(1, int(len(unique) * OUTSIDE_SHARE))
        outside[family] = [unique[i] for i in order[:cut]]
        inside[family] = [unique[i] for i in order[cut:]]
    return inside, outside


def family_weights(cores: dict[str, list[str]], population: int) -> np.ndarray:
    """Weights of the listed families and, last, of long coined names, for ``population``
    companies drawing from ``cores`` (see ``CORE_LOAD``)."""
    sizes = np.array([len(cores[name]) for name in CORE_FAMILIES])
    weight = np.minimum(list(CORE_FAMILIES.values()), CORE_LOAD * sizes / max(population, 1))
    return np.append(weight, max(0.0, 1.0 - weight.sum()))


def draw_cores(
    rng: np.random.Generator, cores: dict[str, list[str]], n: int, weight: np.ndarray
) -> pl.DataFrame:
    """A core per name: a family by ``weight``, then a core uniformly within the family."""
    listed = list(CORE_FAMILIES)
    sizes = np.array([len(cores[name]) for name in listed])
    family = choose(rng, weight, n)
    is_long = family == len(listed)
    flat = [core for name in listed for core in cores[name]]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    fam = np.minimum(family, len(listed) - 1)
    idx = np.where(is_long, 0, offsets[fam] + (rng.random(n) * sizes[fam]).astype(np.int64))
    core = labels(flat, idx)
    long_rows = np.flatnonzero(is_long)
    if long_rows.size:
        core = core.scatter(long_rows, _long_coined(rng, long_rows.size, cores["coined_long"]))
    return pl.DataFrame({"core": core, "family": labels([*listed, "coined_long"], family)})


def _long_coined(rng: np.random.Generator, k: int, starts: Sequence[str]) -> pl.Series:
    """``k`` coined names of a start, one or two consonant-vowel links and an ending."""
    links = [c + v for c in LONG_LINK_CONSONANTS for v in LONG_LINK_VOWELS]
    second = rng.integers(0, len(links) + 1, k)
    # A tenth of names stop after one link: short names are scarce, so they repeat sooner.
    second = np.where(rng.random(k) < 0.1, len(links), np.minimum(second, len(links) - 1))
    parts = pl.DataFrame(
        {
            "a": labels(starts, rng.integers(0, len(starts), k)),
            "b": labels(links, rng.integers(0, len(links), k)),
            "c": labels(links, second),
            "d": labels(LONG_ENDS, rng.integers(0, len(LONG_ENDS), k)),
        }
    )
    return parts.select(
        pl.concat_str([pl.col("a"), pl.col("b"), pl.col("c"), pl.col("d")], ignore_nulls=True)
    ).to_series()


def _descriptor_vocabulary() -> list[str]:
    """Every descriptor once: industries' own, then generic, then surname ones."""
    own = [d for industry in INDUSTRIES for d in DESCRIPTORS[industry]]
    return list(dict.fromkeys([*own, *GENERIC_DESCRIPTORS, *SURNAME_DESCRIPTORS]))


def draw_descriptors(
    rng: np.random.Generator, industry: np.ndarray, family: pl.Series, cores: pl.Series
) -> pl.Series:
    """A descriptor per name from its industry's words (or a generic one), or none."""
    industries = list(INDUSTRIES)
    vocab = _descriptor_vocabulary()
    table = np.zeros((len(industries) + 1, len(vocab) + 1))
    for g, ind in enumerate([*industries, None]):
        own = DESCRIPTORS[ind] if ind is not None else ()
        for d in own:
            table[g, vocab.index(d)] += 0.70 / len(own)
        for d in GENERIC_DESCRIPTORS:
            table[g, vocab.index(d)] += (0.10 if own else 0.80) / len(GENERIC_DESCRIPTORS)
        table[g, -1] = 0.20
    code = pick_by_group(rng, industry, table)
    fam = family.to_numpy()
    partnership = (fam == "surname") & cores.str.contains("&", literal=True).to_numpy()
    u = rng.random(len(code))
    # "Blue Harbor", "Zentrix" and "Keller & Walsh" stand alone more often than not.
    coined = (fam == "coined") | (fam == "coined_long")
    alone = ((fam == "two_word") & (u < 0.35)) | (coined & (u < 0.2))
    ampersand = np.isin(code, [i for i, d in enumerate(vocab) if d.startswith("&")])
    code = np.where(alone | (partnership & ((u < 0.7) | ampersand)), len(vocab), code)
    # A single surname alone reads as a person, not a firm.
    firm = np.array([vocab.index(d) for d in SURNAME_DESCRIPTORS])
    firm_code = firm[(rng.random(len(code)) * len(firm)).astype(np.int64)]
    code = np.where((fam == "surname") & ~partnership & (code == len(vocab)), firm_code, code)
    return labels(vocab, code)


def draw_suffixes(
    rng: np.random.Generator, country: np.ndarray, share: float
) -> tuple[pl.Series, pl.Series]:
    """A legal suffix for ``share`` of names, by country, and the text before it."""
    vocab = list(LEGAL_SUFFIXES)
    table = np.zeros((len(COUNTRIES) + 1, len(vocab) + 1))
    for g, code in enumerate([*COUNTRIES, ""]):
        options = COUNTRY_SUFFIXES.get(code, {})
        total = sum(options.values())
        for suffix, w in options.items():
            table[g, vocab.index(suffix)] = share * w / total
        table[g, -1] = 1.0 - share if options else 1.0
    codes = pick_by_group(rng, country, table)
    comma_ok = np.isin(codes, [vocab.index(s) for s in COMMA_SUFFIXES])
    sep = np.where(comma_ok & (rng.random(len(codes)) < 0.35), ", ", " ")
    return labels(vocab, codes), pl.Series(sep, dtype=pl.String)


def draw_tlds(rng: np.random.Generator, country: np.ndarray, industry: np.ndarray) -> pl.Series:
    """Mostly ``.com``; about half of non-US companies use their country's TLD; tech likes .io."""
    codes = [*COUNTRIES, None]
    local = np.array([COUNTRY_TLD.get(c or "", "com") for c in codes], dtype=object)[country]
    tech = np.isin(industry, [list(INDUSTRIES).index(i) for i in TECH_INDUSTRIES])
    software = industry == list(INDUSTRIES).index("software")
    u = rng.random(len(country))
    tld = np.where(u < 0.5, local, "com")
    tld = np.where(tech & (u >= 0.80) & (u < 0.92), "io", tld)
    tld = np.where(software & (u >= 0.92) & (u < 0.95), "ai", tld)
    tld = np.where(u >= 0.985, "co", tld)
    return pl.Series(tld.astype(str), dtype=pl.String)


def full_name(core: pl.Expr, descriptor: pl.Expr, sep: pl.Expr, suffix: pl.Expr) -> pl.Expr:
    """Core, descriptor and suffix joined as a company writes them."""
    return pl.concat_str([core, pl.lit(" ") + descriptor, sep + suffix], ignore_nulls=True)


def assign_domains(parts: pl.DataFrame) -> pl.Series:
    """A unique domain per row, made from its name the way companies pick them.

    Candidates are tried in order (``brightwave.com``, ``brightwaveanalytics.com``,
    ``brightwave-analytics.com``, ``getbrightwave.com``, ``brightwavehq.com``, another
    TLD, ...): each pass offers every unplaced row its next candidate, and the first row
    asking for a free one gets it. Rows left over get the core plus their row number,
    unique because no candidate has digits.
    """
    core = slug_expr(pl.col("core"))
    desc = slug_expr(pl.col("descriptor")).fill_null("")
    tld = pl.col("tld")
    alt = pl.when(tld == "com").then(pl.lit("co")).otherwise(pl.lit("com"))
    dot = pl.lit(".")
    single_surname = (pl.col("family") == "surname") & ~pl.col("core").str.contains(
        "&", literal=True
    )
    candidates = [
        # A surname alone is rarely a firm's domain: start from name plus descriptor.
        pl.when(~single_surname).then(pl.concat_str([core, dot, tld])),
        pl.concat_str([core, desc, dot, tld]),
        pl.when(desc != "").then(pl.concat_str([core, pl.lit("-"), desc, dot, tld])),
        pl.concat_str([pl.lit("get"), core, dot, tld]),
        pl.concat_str([core, pl.lit("hq"), dot, tld]),
        pl.concat_str([core, dot, alt]),
        pl.concat_str([core, desc, dot, alt]),
        pl.concat_str([pl.lit("the"), core, desc, dot, tld]),
        pl.concat_str([pl.lit("try"), core, dot, tld]),
        pl.concat_str([core, desc, pl.lit("group"), dot, tld]),
    ]
    todo = parts.select("core", "descriptor", "family", "tld").with_row_index("row")
    placed: list[pl.DataFrame] = []
    taken = pl.DataFrame(schema={"domain": pl.String})
    for candidate in candidates:
        offered = todo.select("row", candidate.alias("domain")).drop_nulls("domain")
        won = offered.join(taken, on="domain", how="anti", maintain_order="left").filter(
            pl.col("domain").is_first_distinct()
        )
        placed.append(won)
        taken = pl.concat([taken, won.select("domain")])
        todo = todo.join(won, on="row", how="anti", maintain_order="left")
        if todo.height == 0:
            break
    placed.append(
        todo.select(
            "row", pl.concat_str([core, pl.col("row").cast(pl.String), dot, tld]).alias("domain")
        )
    )
    return pl.concat(placed).sort("row").get_column("domain")
