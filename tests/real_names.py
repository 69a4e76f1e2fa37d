"""A labelled matching benchmark built from real exchange-listed company names.

The names, countries and websites come from ``pytickersymbols`` (MIT), which ships the
constituents of the main stock indices. Each *group* writes CRM accounts the way people
type them, for one kind of difficulty the matcher must get right, as positives (the
account is a company in the data) and hard negatives (it is not, but a company that looks
like it is). ``build`` is deterministic: the same seed gives the same rows.

Groups: ``crm_variants`` (case, legal forms, punctuation, a typo, abbreviations, URLs;
negatives: a listed company left out of the data while another sharing its first word
stays), ``numbered`` (fund vintages, store numbers), ``franchise`` ("<Brand> <City>"),
``other_country``, ``holding_bank``, ``spaced_legal`` ("N. V.", ", AMSTERDAM, NL"),
``national_spelling``, ``glued``, ``legal_typo``, ``swapped``, ``short``, ``acronym``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import polars as pl
from pytickersymbols import PyTickerSymbols

SEED = 20261129
COUNTRY_FORMS = {
    "Germany": ["GmbH", "AG"],
    "France": ["S.A.", "SAS"],
    "Netherlands": ["N.V.", "B.V."],
    "Spain": ["S.A.", "S.L."],
    "United Kingdom": ["plc", "Ltd"],
    "Japan": ["Co., Ltd.", "K.K."],
    "Sweden": ["AB"],
    "Finland": ["Oyj"],
    "Switzerland": ["AG"],
}
CITIES = ["Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Salem", "Clinton"]
ROMAN = ["II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV"]


@dataclass
class Bench:
    """Companies, CRM accounts and the truth (``account_id``, ``company_id``, ``group``)."""

    companies: list[dict[str, str | None]] = field(default_factory=list)
    crm: list[dict[str, str | None]] = field(default_factory=list)
    truth: list[dict[str, str | None]] = field(default_factory=list)

    def company(self, name: str, domain: str | None, country: str | None) -> str:
        cid = f"R{len(self.companies):05d}"
        self.companies.append(
            {"company_id": cid, "name": name, "domain": domain, "country": country}
        )
        return cid

    def account(
        self,
        group: str,
        name: str,
        domain: str | None,
        country: str | None,
        company_id: str | None,
    ) -> None:
        aid = f"A{len(self.crm):05d}"
        self.crm.append({"account_id": aid, "name": name, "domain": domain, "country": country})
        self.truth.append({"account_id": aid, "company_id": company_id, "group": group})

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return (
            pl.DataFrame(self.companies, schema=dict.fromkeys(self.companies[0], pl.String)),
            pl.DataFrame(self.crm, schema=dict.fromkeys(self.crm[0], pl.String)),
            pl.DataFrame(self.truth, schema=dict.fromkeys(self.truth[0], pl.String)),
        )


def listed() -> list[tuple[str, str | None, str]]:
    """(name, website, country) of every listed company, one per name, in a fixed order."""
    seen: dict[str, tuple[str, str | None, str]] = {}
    for stock in PyTickerSymbols().get_all_stocks():
        name = (stock.get("name") or "").strip()
        if not name or name.lower() in seen:
            continue
        country = stock.get("country") or "United States"
        # Some listings give the US city and state instead of the country.
        if "," in country:
            country = "United States"
        website = (stock.get("metadata") or {}).get("website")
        seen[name.lower()] = (name, website or None, country)
    return sorted(seen.values())


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def crm_typed(name: str, country: str, rng: random.Random) -> str:
    """The name as someone might type it into a CRM: one or two everyday changes."""
    out = name
    for change in rng.sample(["case", "form", "punct", "the", "typo", "abbrev"], 2):
        if change == "case":
            out = rng.choice([out.upper(), out.lower()])
        elif change == "form":
            form = rng.choice(COUNTRY_FORMS.get(country, ["Inc.", "Corp", "LLC"]))
            out = f"{out}{rng.choice([', ', ' '])}{form}"
        elif change == "punct":
            out = out.replace("&", "and").replace(".", "").replace("-", " ")
        elif change == "the" and not out.lower().startswith("the "):
            out = f"The {out}"
        elif change == "typo":
            words = out.split(" ")
            long = [i for i, w in enumerate(words) if len(w) >= 7 and w.isalpha()]
            if long:
                i = rng.choice(long)
                words[i] = _typo(words[i], rng)
                out = " ".join(words)
        elif change == "abbrev":
            out = re.sub(r"\bInternational\b", "Intl", out)
            out = re.sub(r"\bCorporation\b", "Corp.", out)
    return out


def build(seed: int = SEED) -> Bench:
    """The benchmark: every real company in the data, and the CRM accounts of each group."""
    rng = random.Random(seed)
    companies = listed()
    rng.shuffle(companies)
    bench = Bench()
    # Companies sharing a first word: one of each pair is left out of the data, and its
    # CRM account is a hard negative for the one that stays.
    by_first: dict[str, list[int]] = {}
    for i, (name, _, _) in enumerate(companies):
        first = name.split(" ")[0].lower()
        if len(name.split(" ")) > 1 and len(first) >= 4:
            by_first.setdefault(first, []).append(i)
    left_out = {ids[1] for ids in by_first.values() if len(ids) >= 2}
    ids = {}
    for i, (name, web, country) in enumerate(companies):
        if i not in left_out:
            ids[i] = bench.company(name, web, country)
    for i in sorted(left_out):
        name, web, country = companies[i]
        bench.account("crm_variants", crm_typed(name, country, rng), None, country, None)
    kept = [i for i in ids if i not in left_out]

    def pick(n: int, cond: object = None) -> list[int]:
        pool = [i for i in kept if cond is None or cond(companies[i][0])]  # type: ignore[operator]
        return rng.sample(pool, min(n, len(pool)))

    for i in pick(700):
        name, web, country = companies[i]
        domain = rng.choice([f"https://www.{web}/about" if web else None, None])
        given_country = country if rng.random() < 0.7 else None
        bench.account("crm_variants", crm_typed(name, country, rng), domain, given_country, ids[i])
    # Numbered entities: vintages and store numbers, the right one and a neighbour.
    for i in pick(80):
        name, _, country = companies[i]
        k = rng.randrange(len(ROMAN) - 1)
        fund = bench.company(f"{name} Fund {ROMAN[k]}", None, country)
        store = rng.randrange(100, 999)
        shop = bench.company(f"{name} Store {store}", None, country)
        bench.account("numbered", f"{name} Fund {ROMAN[k]} LP", None, country, fund)
        bench.account("numbered", f"{name} Fund {ROMAN[k + 1]}", None, country, None)
        bench.account("numbered", f"{name.upper()} STORE #{store}", None, country, shop)
        swapped = int(str(store)[0] + str(store)[2] + str(store)[1])
        if swapped != store:
            bench.account("numbered", f"{name} Store {swapped}", None, country, None)
    # Franchises and branches: "<Brand> <City>" is not the brand.
    for n, i in enumerate(pick(120, lambda s: " " not in s)):
        name, _, country = companies[i]
        city = CITIES[n % len(CITIES)]
        if n % 2:
            bench.account("franchise", f"{name} {city}", None, country, None)
        else:
            branch = bench.company(f"{name} {city}", None, country)
            bench.account("franchise", f"{name.upper()} {city.upper()} INC", None, country, branch)
    # The same brand in another country is another account; in the same, the same.
    others = ["Brazil", "India", "Mexico", "Australia", "Canada", "Italy"]
    for n, i in enumerate(pick(120)):
        name, _, country = companies[i]
        if n % 2:
            elsewhere = rng.choice([c for c in others if c != country])
            bench.account("other_country", name, None, elsewhere, None)
        else:
            bench.account("other_country", crm_typed(name, country, rng), None, country, ids[i])
    # A holding and a bank sharing one word.
    for n, i in enumerate(pick(80, lambda s: re.search(r"\bHoldings?\b", s) is not None)):
        name, _, country = companies[i]
        word = re.sub(r"\s*\bHoldings?\b.*$", "", name).strip()
        if not word:
            continue
        if n % 2:
            bench.account("holding_bank", f"{word} Bank", None, country, None)
        else:
            bench.account("holding_bank", f"{word} Hldgs. Ltd", None, country, ids[i])
    # Spaced, dotted and placed legal forms.
    for n, i in enumerate(pick(100)):
        name, _, country = companies[i]
        form = ["N. V.", "S. A.", "B V", "N.V., AMSTERDAM, NL", "S.A., MADRID, ES"][n % 5]
        bench.account("spaced_legal", f"{name} {form}", None, None, ids[i])
    # National spellings, glued or hyphenated words, typos in legal words.
    for n, i in enumerate(pick(60)):
        name, _, country = companies[i]
        us, uk = [("Center", "Centre"), ("Organization", "Organisation"), ("Defense", "Defence")][
            n % 3
        ]
        rec = bench.company(f"{name} Research {us}", None, country)
        bench.account("national_spelling", f"{name} Research {uk}", None, country, rec)
    for i in pick(100, lambda s: len(s.split(" ")) == 2 and s.replace(" ", "").isalpha()):
        name, _, country = companies[i]
        glued = name.replace(" ", rng.choice(["", "-"]))
        bench.account("glued", glued, None, country, ids[i])
    for i in pick(100):
        name, _, country = companies[i]
        word, typo = rng.choice(
            [
                ("Holdings", "Hodlings"),
                ("Corporation", "Corporaton"),
                ("Solutions", "Soultions"),
                ("Incorporated", "Incorprated"),
            ]
        )
        if word in ("Corporation", "Incorporated"):
            # A legal form: the company is the listed one, whatever form it is written with.
            bench.account("legal_typo", f"{name} {typo}", None, country, ids[i])
        else:
            rec = bench.company(f"{name} {word}", None, country)
            bench.account("legal_typo", f"{name} {typo}", None, country, rec)
    for i in pick(100, lambda s: " " not in s and len(s) >= 6 and s.isalpha()):
        name, _, country = companies[i]
        bench.account("swapped", _typo(name, rng), None, country, ids[i])
    for i in pick(40, lambda s: len(re.sub(r"[^A-Za-z0-9]", "", s)) <= 3):
        name, _, country = companies[i]
        bench.account("short", f"{name} {rng.choice(['Inc.', 'AG', 'plc'])}", None, country, ids[i])
    # Acronyms: the initials, dotted, with the company's own domain to confirm them.
    for i in pick(80, lambda s: 2 <= len(s.split(" ")) <= 4 and s.replace(" ", "").isalpha()):
        name, web, country = companies[i]
        if not web:
            continue
        initials = ".".join(w[0].upper() for w in name.split(" ")) + "."
        bench.account("acronym", f"{initials} Ltd", web, country, ids[i])
    return bench
