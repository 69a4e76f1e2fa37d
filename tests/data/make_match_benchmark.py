"""Write the labelled matching benchmark: ``match_companies.csv``, ``match_crm.csv`` and
``match_truth.csv`` beside this file.

Usage:
    python tests/data/make_match_benchmark.py

Two parts. Hand-written cases spell real-world kinds of difference between a company
dataset and a CRM ("ACME, Inc." at ``https://www.acme.com/about`` against "Acme
Incorporated" at ``acme.com``) and hard negatives that share words ("Delta Air Lines" is
not "Delta Electronics"). Generated cases take invented companies and write each CRM
account for one of them in one or two documented ways (``KINDS``), or invent an account
that is not in the dataset, often one word or one letter away from a company that is.

The truth file names, for every CRM account, the company it really is (empty when none)
and the kinds of difference, so accuracy can be broken down by kind. The script is
deterministic: running it again rewrites the same bytes (a test checks this).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261101


def _words(text: str) -> list[str]:
    """The words of a block of text, for long vocabularies written compactly."""
    return text.split()


# --- hand-written cases ----------------------------------------------------------------
# Companies: key, name, domain, country.
HAND_COMPANIES: list[tuple[str, str, str, str]] = [
    ("acme", "ACME, Inc.", "https://www.acme.com/about", "US"),
    ("socgen", "Société Générale S.A.", "societegenerale.com", "FR"),
    ("homedepot", "The Home Depot", "homedepot.com", "US"),
    ("acmeholdings_gb", "Acme Holdings Limited", "", "GB"),
    ("acmeholdings_us", "Acme Holdings Inc", "acmeholdingsinc.com", "US"),
    ("nestle", "Nestlé S.A.", "nestle.com", "CH"),
    ("db", "Deutsche Bahn AG", "deutschebahn.com", "DE"),
    ("loreal", "L'Oréal", "loreal.com", "FR"),
    ("pg", "Procter & Gamble Co", "pg.com", "US"),
    ("mcd", "McDonald's Corporation", "mcdonalds.com", "US"),
    ("att", "AT&T Inc.", "att.com", "US"),
    ("hp", "Hewlett-Packard Company", "hp.com", "US"),
    ("ip", "International Paper Company", "internationalpaper.com", "US"),
    ("jnj", "Johnson & Johnson", "jnj.com", "US"),
    ("toyota", "Toyota Motor Corporation", "toyota-global.com", "JP"),
    ("bbva", "Banco Bilbao Vizcaya Argentaria, S.A.", "bbva.com", "ES"),
    ("volvocars", "Volvo Car AB", "volvocars.com", "SE"),
    ("mueller", "Müller Maschinenbau GmbH", "mueller-maschinenbau.de", "DE"),
    ("brightwave", "Brightwave Analytics Inc.", "brightwave.io", "US"),
    ("salesforce", "Salesforce.com, Inc.", "salesforce.com", "US"),
    ("coke", "The Coca-Cola Company", "coca-colacompany.com", "US"),
    ("3m", "3M Company", "3m.com", "US"),
    ("ca", "Crédit Agricole S.A.", "credit-agricole.com", "FR"),
    ("zurich", "Zürich Insurance Group AG", "zurich.com", "CH"),
    ("orsted", "Ørsted A/S", "orsted.com", "DK"),
    ("walmart", "Wal-Mart Stores, Inc.", "walmart.com", "US"),
    ("mands", "Marks & Spencer Group plc", "marksandspencer.com", "GB"),
    ("tcs", "Tata Consultancy Services Limited", "tcs.com", "IN"),
    ("ibm", "International Business Machines Corporation", "ibm.com", "US"),
    ("ge", "General Electric Company", "ge.com", "US"),
    ("pge", "Pacific Gas and Electric Company", "pge.com", "US"),
    ("boa", "Bank of America Corporation", "bankofamerica.com", "US"),
    ("brk", "Berkshire Hathaway Inc.", "berkshirehathaway.com", "US"),
    ("accenture", "Accenture plc", "accenture.com", "IE"),
    ("philips", "Koninklijke Philips N.V.", "philips.com", "NL"),
    ("sony", "Sony Group Corporation", "sony.com", "JP"),
    ("samsung", "Samsung Electronics Co., Ltd.", "samsung.com", "KR"),
    ("santander", "Banco Santander, S.A.", "santander.com", "ES"),
    ("unilever", "Unilever PLC", "unilever.com", "GB"),
    ("rr", "Rolls-Royce Holdings plc", "rolls-royce.com", "GB"),
    ("lloyds", "Lloyds Banking Group plc", "lloydsbankinggroup.com", "GB"),
    ("abinbev", "Anheuser-Busch InBev SA/NV", "ab-inbev.com", "BE"),
    ("alemana", "Clínica Alemana", "alemana.cl", "CL"),
    ("renault", "Groupe Renault", "renaultgroup.com", "FR"),
    ("kraft", "Kraft Heinz Co", "kraftheinzcompany.com", "US"),
    ("jpm", "JPMorgan Chase & Co.", "jpmorganchase.com", "US"),
    ("estee", "Estée Lauder Companies Inc.", "elcompanies.com", "US"),
    ("northrop", "Northrop Grumman Corporation", "northropgrumman.com", "US"),
    ("shopify", "Shopify Inc.", "shopify.com", "CA"),
    ("widgets", "Acme Widgets Ltd", "acmewidgets.co.uk", "GB"),
    ("kangaroo", "Kangaroo Freight Pty Ltd", "kangaroofreight.com.au", "AU"),
    ("harbordental", "Harbor Dental Group LLC", "harbordental.com", "US"),
    ("maple", "Maple Street Bakery", "maplestreetbakery.com", "US"),
    ("oxford", "Oxford University", "ox.ac.uk", "GB"),
    ("smithnephew", "Smith & Nephew plc", "smith-nephew.com", "GB"),
    ("fca", "Fiat Chrysler Automobiles N.V.", "fcagroup.com", "NL"),
    ("delta", "Delta Air Lines, Inc.", "delta.com", "US"),
    ("amex", "American Express Company", "americanexpress.com", "US"),
    ("acmeglobal", "Acme Global Solutions Inc.", "acmeglobalsolutions.com", "US"),
    ("globalsol", "Global Solutions Inc", "globalsolutions.net", "US"),
    ("united", "United Airlines Holdings, Inc.", "united.com", "US"),
    ("gm", "General Motors Company", "gm.com", "US"),
    ("frb", "First Republic Bank", "firstrepublic.com", "US"),
    ("apple", "Apple Inc.", "apple.com", "US"),
    ("natinst", "National Instruments Corporation", "ni.com", "US"),
    ("eaglebank", "Eagle Bancorp, Inc.", "eaglebankcorp.com", "US"),
    ("northernstar", "Northern Star Resources Ltd", "nsrltd.com", "AU"),
    ("rbc", "Royal Bank of Canada", "rbc.com", "CA"),
    ("smp", "Standard Motor Products, Inc.", "smpcorp.com", "US"),
    ("summitmat", "Summit Materials, Inc.", "summit-materials.com", "US"),
    ("phoenixtech", "Phoenix Technologies Ltd", "phoenix.com", "US"),
    ("apexdigital", "Apex Digital Inc.", "apexdigital.com", "US"),
    ("acmelabs", "Acme Labs", "acmelabs.io", "US"),
    ("avanti", "Avanti Communications Group plc", "avantiplc.com", "GB"),
    ("siemens", "Siemens Aktiengesellschaft", "siemens.com", "DE"),
    ("homeplus", "Home Depot Supply", "hdsupply.com", "US"),
    # Two records of one company in the dataset: the same registrable domain twice.
    ("contoso", "Contoso Ltd", "contoso.co.uk", "GB"),
    ("contoso_dup", "Contoso Limited", "https://shop.contoso.co.uk/", "GB"),
    ("fabrikam", "Fabrikam, Inc.", "fabrikam.com", "US"),
    ("fabrikam_dup", "Fabrikam Incorporated", "www.fabrikam.com", "US"),
]

# CRM accounts: name, domain, country, the company's key (empty: not in the dataset),
# kinds of difference.
HAND_CRM: list[tuple[str, str, str, str, str]] = [
    ("Acme Incorporated", "acme.com", "", "acme", "legal+url"),
    ("Societe Generale", "", "France", "socgen", "accents+legal+no_domain"),
    ("Home Depot, Inc.", "", "US", "homedepot", "the+legal+no_domain"),
    ("Acme Holdings Ltd", "", "United Kingdom", "acmeholdings_gb", "legal+no_domain"),
    ("NESTLE SA", "www.nestle.com", "", "nestle", "case+accents+legal+www"),
    ("Deutsche Bahn", "", "Germany", "db", "legal+no_domain"),
    ("LOreal S.A.", "", "", "loreal", "accents+punct+legal+no_domain"),
    ("Procter and Gamble Company", "", "", "pg", "punct+legal+no_domain"),
    ("McDonalds Corp", "investor.relations@mcdonalds.com", "", "mcd", "punct+legal+email"),
    ("AT and T", "", "", "att", "punct+legal+no_domain"),
    ("Hewlett Packard", "", "USA", "hp", "punct+legal+no_domain"),
    ("Intl Paper Co.", "", "", "ip", "abbrev+legal+no_domain"),
    ("Johnson and Johnson", "http://www.jnj.com/", "", "jnj", "punct+url"),
    (
        "\uff34\uff2f\uff39\uff2f\uff34\uff21 \uff2d\uff2f\uff34\uff2f\uff32",
        "",
        "Japan",
        "toyota",
        "fullwidth+legal+no_domain",
    ),
    (
        "Banco Bilbao Vizcaya Argentaria",
        "https://shareholders.bbva.com/en",
        "",
        "bbva",
        "legal+subdomain",
    ),
    ("Volvo Car Aktiebolag", "", "SE", "volvocars", "legal+no_domain"),
    ("Mueller Maschinenbau", "", "DE", "mueller", "accents+legal+no_domain"),
    ("Brigthwave Analytics", "", "", "brightwave", "typo+legal+no_domain"),
    ("Salesforce", "", "", "salesforce", "punct+legal+no_domain"),
    ("Coca Cola Co", "", "", "coke", "the+punct+legal+no_domain"),
    ("3M", "", "", "3m", "legal+no_domain"),
    ("Credit Agricole SA", "credit-agricole.com", "", "ca", "accents+legal"),
    ("Zurich Insurance Group", "", "Switzerland", "zurich", "accents+legal+no_domain"),
    ("Orsted", "", "Denmark", "orsted", "accents+legal+no_domain"),
    ("Walmart Stores Inc", "", "", "walmart", "punct+no_domain"),
    ("Marks and Spencer", "", "UK", "mands", "punct+legal+no_domain"),
    ("TCS", "", "India", "tcs", "acronym+no_domain"),
    ("IBM", "https://www.ibm.com/us-en", "", "ibm", "acronym+url"),
    ("GE", "", "", "ge", "acronym+no_domain"),
    ("Pacific Gas & Electric Co.", "", "", "pge", "punct+legal+no_domain"),
    ("Bank of America, N.A.", "", "", "boa", "legal+no_domain"),
    ("Berkshire Hathway", "", "", "brk", "typo+legal+no_domain"),
    ("Accenture", "https://www.accenture.com/us-en", "", "accenture", "legal+url"),
    ("Royal Philips", "philips.com/global", "", "philips", "translation+url"),
    ("Sony Corp", "", "JP", "sony", "legal+no_domain"),
    ("Samsung Electronics", "", "South Korea", "samsung", "legal+no_domain"),
    ("Santander", "", "", "santander", "short+no_domain"),
    ("Unilever", "uk.unilever.com", "", "unilever", "legal+subdomain"),
    ("Rolls Royce", "", "", "rr", "punct+legal+no_domain"),
    ("Lloyds Banking Group", "", "", "lloyds", "legal+no_domain"),
    ("Anheuser Busch Inbev", "", "Belgium", "abinbev", "punct+legal+no_domain"),
    ("Clinica Alemana", "", "Chile", "alemana", "accents+no_domain"),
    ("Renault S.A.S.", "", "FR", "renault", "legal+no_domain"),
    ("The Kraft Heinz Company", "", "", "kraft", "the+legal+no_domain"),
    ("J.P. Morgan Chase and Co", "", "", "jpm", "punct+legal+no_domain"),
    ("The Estee Lauder Cos., Inc.", "", "", "estee", "the+accents+legal+no_domain"),
    ("Northrup Grumman Corp", "", "US", "northrop", "typo+legal+no_domain"),
    ("Shopify", "HTTPS://WWW.SHOPIFY.COM:443/?utm_source=x", "", "shopify", "legal+url"),
    ("Acme Widgets Limited", "shop.acmewidgets.co.uk", "", "widgets", "legal+subdomain"),
    ("Kangaroo Freight", "https://shop.kangaroofreight.com.au/", "", "kangaroo", "legal+subdomain"),
    ("Harbor Dental Group", "harbordentalgroup@gmail.com", "", "harbordental", "legal+freemail"),
    (
        "Maple Street Bakery LLC",
        "https://maplestreetbakery.wixsite.com/home",
        "",
        "maple",
        "legal+hosting",
    ),
    ("University of Oxford", "", "", "oxford", "order+no_domain"),
    ("Smith and Nephew", "", "", "smithnephew", "punct+legal+no_domain"),
    ("Fiat Chrysler", "", "", "fca", "short+legal+no_domain"),
    ("Siemens AG", "", "Germany", "siemens", "legal+no_domain"),
    ("Contoso", "contoso.co.uk", "", "contoso", "legal+duplicate_in_dataset"),
    ("Fabrikam", "", "", "fabrikam", "legal+no_domain+duplicate_in_dataset"),
    # Hard negatives: the organisation is not in the dataset, but one that shares words is.
    ("Delta Electronics", "deltaww.com", "Taiwan", "", "shares_word"),
    ("Delta Dental", "", "", "", "shares_word"),
    ("American Airlines Group", "aa.com", "", "", "shares_word"),
    ("American Airlines", "", "", "", "shares_word"),
    ("Zenith Global Solutions", "", "", "", "shares_generic_words"),
    ("Global Solutions Group", "", "", "", "generic_only"),
    ("Global Solutions LLC", "", "US", "", "generic_only"),
    ("United Rentals", "", "", "", "shares_word"),
    ("General Mills", "", "", "", "shares_word"),
    ("First Citizens Bank", "", "", "", "shares_word"),
    ("Bank of Montreal", "", "Canada", "", "shares_word"),
    ("Pacific Life", "", "", "", "shares_word"),
    ("Apple Hospitality REIT", "", "", "", "shares_word"),
    ("Acme Holdings Pty Ltd", "", "Australia", "", "same_name_other_country"),
    ("National Grid", "", "", "", "shares_word"),
    ("Eagle Materials", "", "", "", "shares_word"),
    ("Northern Trust", "", "", "", "shares_word"),
    ("Royal Caribbean", "", "", "", "shares_word"),
    ("Standard Chartered", "", "", "", "shares_word"),
    ("Summit Health", "", "", "", "shares_word"),
    ("Phoenix Group Holdings", "", "", "", "shares_word"),
    ("Apex Dental", "", "", "", "shares_word"),
    ("Acne Labs", "", "", "", "lookalike"),
    ("Avantor", "", "", "", "lookalike"),
    ("Acme Glass", "", "", "", "shares_word"),
]

# --- generated cases ---------------------------------------------------------------------

SYLLABLES = _words(
    """
ba be bi bo bu ca co cu da de di do du fa fe fi fo ga go gu ha he hi ho ka ke ki ko la
le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so ta te
ti to tu va ve vi vo za ze zo bri cla dra fle gri kro pla qui sta tra ver vor lex rix
nor mar tel ven dor lan kor ton vel
"""
)
WORDS = _words(
    """
North South East West Blue Red Green Silver Golden Iron Stone River Lake Harbor Summit
Cedar Maple Pine Oak Willow Falcon Eagle Hawk Raven Fox Wolf Bear Lion Tiger Bright
Clear Swift True Prime Noble Royal Grand Pioneer Frontier Liberty Heritage Beacon Anchor
Compass Meridian Horizon Vertex Apex Zenith Orbit Nova Stellar Lunar Solar Crystal
Diamond Emerald Sapphire Granite Marble Copper Cobalt Crimson Indigo Ivory Coastal
Prairie Valley Canyon Mesa Ridge Glen Brook Meadow Orchard Harvest Keystone Cornerstone
Landmark Pinnacle Paragon Vanguard Sterling Regal Crown Shield
"""
)
SURNAMES = _words(
    """
Keller Walsh Harrington Whitaker Okafor Lindqvist Moreno Sinclair Fletcher Cromwell
Abernathy Bishop Calloway Donovan Ellison Fairbanks Galloway Hastings Iverson Jennings
Kowalski Lockhart Mercer Nakamura Ortega Prescott Quigley Ramsey Sorensen Thornton
Underwood Vasquez Whitmore Yamamoto Zimmerman
"""
)
ACCENTED = _words(
    """
Société Générale Crédit Müller Bäcker Schön Größer Élan Crème Façade Søren Ålborg
Señorío Coração Göteborg Zürich Citroën Renée Böhm Straße Jürgen Ærø Łódź Brașov Kraków
Málaga Besançon Genève Tromsø Växjö Düsseldorf Pécs Córdoba
"""
)
DESCRIPTORS = _words(
    """
Analytics Logistics Software Health Capital Foods Energy Media Consulting Partners
Systems Technologies Solutions Group Holdings Industries Manufacturing Services Labs
Networks Dynamics Robotics Pharmaceuticals Insurance Properties Construction Financial
Marketing Security Motors Aerospace Brewing Textiles Furniture Studios
"""
)
ABBREVIATED = {
    "Technologies": "Tech",
    "Manufacturing": "Mfg",
    "Services": "Svcs",
    "Systems": "Sys",
    "Holdings": "Hldgs",
    "Laboratories": "Labs",
    "International": "Intl",
    "Management": "Mgmt",
    "Brothers": "Bros",
    "Associates": "Assoc",
}
COUNTRIES = {
    # code: (weight, top-level domain, legal forms, spellings a CRM uses for the country)
    "US": (
        40,
        "com",
        ["Inc.", "Inc", "LLC", "Corp.", "Corporation"],
        ["US", "USA", "United States"],
    ),
    "GB": (12, "co.uk", ["Ltd", "Limited", "PLC", "LLP"], ["GB", "UK", "United Kingdom"]),
    "DE": (8, "de", ["GmbH", "AG", "GmbH & Co. KG"], ["DE", "Germany", "DEU"]),
    "FR": (6, "fr", ["SAS", "S.A.", "SARL"], ["FR", "France"]),
    "CA": (5, "ca", ["Inc.", "Ltd", "Corp."], ["CA", "Canada"]),
    "AU": (5, "com.au", ["Pty Ltd", "Pty. Ltd."], ["AU", "Australia"]),
    "NL": (4, "nl", ["B.V.", "N.V."], ["NL", "Netherlands"]),
    "SE": (3, "se", ["AB"], ["SE", "Sweden"]),
    "IT": (3, "it", ["S.r.l.", "S.p.A."], ["IT", "Italy"]),
    "ES": (3, "es", ["S.L.", "S.A."], ["ES", "Spain"]),
    "JP": (3, "co.jp", ["K.K.", "Co., Ltd."], ["JP", "Japan"]),
    "DK": (2, "dk", ["A/S", "ApS"], ["DK", "Denmark"]),
    "NO": (2, "no", ["AS", "ASA"], ["NO", "Norway"]),
    "FI": (2, "fi", ["Oy", "Oyj"], ["FI", "Finland"]),
    "CH": (2, "ch", ["AG", "SA", "GmbH"], ["CH", "Switzerland"]),
    "BR": (2, "com.br", ["Ltda.", "S.A."], ["BR", "Brazil"]),
    "IN": (2, "in", ["Pvt. Ltd.", "Private Limited"], ["IN", "India"]),
    "PL": (1, "pl", ["Sp. z o.o."], ["PL", "Poland"]),
    "MX": (1, "com.mx", ["S.A. de C.V."], ["MX", "Mexico"]),
}
# Another spelling of each legal form, as a CRM might hold it.
RESPELLED = {
    "Inc.": ["Incorporated", "Inc", "INC"],
    "Inc": ["Inc.", "Incorporated"],
    "LLC": ["L.L.C.", "Llc"],
    "Corp.": ["Corporation", "Corp"],
    "Corporation": ["Corp.", "Corp"],
    "Ltd": ["Limited", "Ltd."],
    "Limited": ["Ltd", "Ltd."],
    "PLC": ["plc", "Public Limited Company"],
    "LLP": ["L.L.P."],
    "GmbH": ["G.m.b.H.", "Gmbh"],
    "AG": ["A.G.", "Aktiengesellschaft"],
    "GmbH & Co. KG": ["GmbH & Co KG", "GmbH und Co. KG"],
    "SAS": ["S.A.S."],
    "S.A.": ["SA"],
    "SARL": ["S.A.R.L."],
    "Pty Ltd": ["Pty. Ltd.", "Pty Limited"],
    "Pty. Ltd.": ["Pty Ltd"],
    "B.V.": ["BV"],
    "N.V.": ["NV"],
    "AB": ["Aktiebolag"],
    "S.r.l.": ["SRL", "Srl"],
    "S.p.A.": ["SpA", "S.P.A."],
    "S.L.": ["SL"],
    "K.K.": ["KK", "Kabushiki Kaisha"],
    "Co., Ltd.": ["Co Ltd", "Company Limited"],
    "A/S": ["AS"],
    "ApS": ["APS"],
    "AS": ["A/S"],
    "ASA": ["A.S.A."],
    "Oy": ["OY"],
    "Oyj": ["OYJ"],
    "SA": ["S.A."],
    "Ltda.": ["Ltda"],
    "Pvt. Ltd.": ["Private Limited", "Pvt Ltd"],
    "Private Limited": ["Pvt. Ltd."],
    "Sp. z o.o.": ["sp. z o.o.", "Sp. z.o.o."],
    "S.A. de C.V.": ["SA de CV"],
}
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "gmx.de", "icloud.com"]
HOSTING = ["wixsite.com", "squarespace.com", "github.io", "myshopify.com", "wordpress.com"]
URLS = [
    ("https://www.", "/about"),
    ("http://", ""),
    ("https://", "/?utm_source=linkedin"),
    ("HTTP://WWW.", "/"),
    ("https://www.", ":443/en-us/home"),
    ("www.", ""),
]
NAME_KINDS = {
    "exact": 10,
    "case": 10,
    "legal": 24,
    "punct": 12,
    "accents": 5,
    "abbrev": 6,
    "typo": 10,
    "the": 5,
    "order": 2,
    "short": 4,
    "fullwidth": 2,
    "legal+case": 6,
    "legal+punct": 4,
}
DOMAIN_KINDS = {
    "bare": 16,
    "url": 20,
    "www": 8,
    "email": 8,
    "subdomain": 5,
    "no_domain": 28,
    "freemail": 6,
    "hosting": 3,
    "alias": 6,
}
N_COMPANIES = 1500
N_POSITIVE = 560
N_NEGATIVE = 260


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _coined(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
    return word.capitalize()


def _slug(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _core(rng: random.Random) -> str:
    form = rng.random()
    if form < 0.35:
        return _coined(rng)
    if form < 0.55:
        return rng.choice(WORDS) + rng.choice(WORDS).lower()
    if form < 0.75:
        return f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
    if form < 0.88:
        a, b = rng.sample(SURNAMES, 2)
        return f"{a} & {b}"
    if form < 0.94:
        return f"{rng.choice(ACCENTED)} {_coined(rng)}"
    return f"{rng.choice(WORDS)} {_coined(rng)}"


class Company:
    """One invented company and the parts its name is made of."""

    def __init__(self, rng: random.Random, taken: set[str], domains: set[str]) -> None:
        codes = list(COUNTRIES)
        self.country = rng.choices(codes, weights=[COUNTRIES[c][0] for c in codes])[0]
        _, tld, forms, _ = COUNTRIES[self.country]
        while True:
            self.core = _core(rng)
            self.descriptor = rng.choice(DESCRIPTORS) if rng.random() < 0.6 else ""
            if "&" in self.core and not self.descriptor:
                self.descriptor = rng.choice(("Partners", "Associates", "Consulting"))
            key = _slug(self.core + self.descriptor)
            if key not in taken:
                taken.add(key)
                break
        self.form = rng.choice(forms) if rng.random() < 0.55 else ""
        self.comma = self.form in ("Inc.", "Inc", "LLC", "Ltd") and rng.random() < 0.4
        base = _slug(self.core) + (_slug(self.descriptor) if rng.random() < 0.3 else "")
        domain = f"{base}.{tld}"
        while domain in domains:
            domain = f"{base}{rng.choice(('hq', 'group', 'inc', 'app'))}.{tld}"
            base = domain.split(".")[0]
        domains.add(domain)
        self.domain = domain if rng.random() > 0.04 else ""

    def name(self, form: str | None = None, sep: str | None = None) -> str:
        form = self.form if form is None else form
        text = " ".join(p for p in (self.core, self.descriptor) if p)
        if form:
            text += (", " if self.comma else " ") if sep is None else sep
            text += form
        return text


def _typo(rng: random.Random, text: str) -> str:
    """One edit (drop, swap, double or change a letter) inside the longest word."""
    words = text.split(" ")
    i = max(range(len(words)), key=lambda k: len(words[k]))
    word = words[i]
    at = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "swap", "double", "change"))
    if edit == "drop":
        word = word[:at] + word[at + 1 :]
    elif edit == "swap":
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif edit == "double":
        word = word[:at] + word[at] + word[at:]
    else:
        word = word[:at] + rng.choice("aeiou".replace(word[at].lower(), "")) + word[at + 1 :]
    words[i] = word
    return " ".join(words)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _strip_accents(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _crm_name(rng: random.Random, company: Company, kind: str) -> tuple[str, str]:
    """The CRM's spelling of a company's name; returns (name, kind actually used)."""
    name = company.name()
    if kind == "legal+case":
        respelled, _ = _crm_name(rng, company, "legal")
        return respelled.upper() if rng.random() < 0.5 else respelled.lower(), kind
    if kind == "legal+punct":
        respelled, _ = _crm_name(rng, company, "legal")
        return respelled.replace(",", "").replace(".", "").replace("&", "and"), kind
    if kind == "case":
        return (name.upper() if rng.random() < 0.6 else name.lower()), kind
    if kind == "legal":
        if company.form and rng.random() < 0.25:
            return company.name(form=""), kind
        if company.form:
            alternatives = RESPELLED.get(company.form, [])
            if alternatives:
                return company.name(form=rng.choice(alternatives)), kind
        forms = COUNTRIES[company.country][2]
        return company.name(form=rng.choice(forms), sep=rng.choice((" ", ", "))), kind
    if kind == "punct":
        if "&" in name:
            return name.replace("&", "and"), kind
        if "." in name or "," in name:
            return name.replace(".", "").replace(",", ""), kind
        if " " in company.core:
            return name.replace(" ", "-", 1), kind
        return _crm_name(rng, company, "legal")[0], "legal"
    if kind == "accents":
        plain = _strip_accents(name)
        if plain != name:
            return plain, kind
        return _crm_name(rng, company, "case")[0], "case"
    if kind == "abbrev":
        for long, short in ABBREVIATED.items():
            if long in name:
                return name.replace(long, short), kind
        return _crm_name(rng, company, "legal")[0], "legal"
    if kind == "typo":
        longest = max(len(w) for w in name.split(" "))
        if longest >= 6:
            return _typo(rng, name), kind
        return _crm_name(rng, company, "case")[0], "case"
    if kind == "the":
        if rng.random() < 0.7:
            return f"The {name}", kind
        return f"{name}, The", kind
    if kind == "order":
        parts = company.core.split(" ")
        if len(parts) == 2 and "&" not in company.core:
            swapped = f"{parts[1]} {parts[0]}"
            return " ".join(p for p in (swapped, company.descriptor) if p), kind
        return _crm_name(rng, company, "legal")[0], "legal"
    if kind == "short":
        if company.descriptor:
            return company.core, kind
        return _crm_name(rng, company, "legal")[0], "legal"
    if kind == "fullwidth":
        return _fullwidth(name), kind
    return name, "exact"


def _crm_domain(rng: random.Random, company: Company, kind: str) -> tuple[str, str]:
    domain = company.domain
    if not domain:
        return "", "no_domain"
    if kind == "url":
        prefix, suffix = rng.choice(URLS)
        return f"{prefix}{domain}{suffix}", kind
    if kind == "www":
        return f"www.{domain}".upper() if rng.random() < 0.4 else f"www.{domain}", kind
    if kind == "email":
        return f"{rng.choice(('info', 'sales', 'contact'))}@{domain}", kind
    if kind == "subdomain":
        return f"{rng.choice(('shop', 'uk', 'careers', 'app'))}.{domain}", kind
    if kind == "no_domain":
        return "", kind
    if kind == "freemail":
        return f"{_slug(company.core)}@{rng.choice(FREE_MAIL)}", kind
    if kind == "hosting":
        return f"https://{_slug(company.core)}.{rng.choice(HOSTING)}/", kind
    if kind == "alias":
        label, _, suffix = domain.partition(".")
        other = "io" if suffix != "io" else "co"
        return f"{label}.{other}", kind
    return domain, "bare"


def _crm_country(rng: random.Random, company: Company) -> tuple[str, str]:
    if rng.random() < 0.5:
        return "", ""
    if rng.random() < 0.05:
        other = rng.choice([c for c in COUNTRIES if c != company.country])
        return rng.choice(COUNTRIES[other][3]), "country_differs"
    return rng.choice(COUNTRIES[company.country][3]), ""


def _lookalike(rng: random.Random, company: Company, taken: set[str]) -> str | None:
    """A different organisation's name one word or one letter from ``company``'s."""
    for _ in range(20):
        roll = rng.random()
        if roll < 0.45 and company.descriptor:
            # Same distinctive part, another line of business.
            other = rng.choice([d for d in DESCRIPTORS if d != company.descriptor])
            name = f"{company.core} {other}"
        elif roll < 0.8 and " " in company.core and "&" not in company.core:
            first, _ = company.core.split(" ", 1)
            name = " ".join(p for p in (f"{first} {rng.choice(WORDS)}", company.descriptor) if p)
        elif len(company.core) <= 6 and " " not in company.core:
            # Short brands one letter apart are different brands ("Acme", "Acne").
            at = rng.randrange(1, len(company.core))
            letter = rng.choice([c for c in "abdeiklmnorstuv" if c != company.core[at]])
            core = company.core[:at] + letter + company.core[at + 1 :]
            name = " ".join(p for p in (core, company.descriptor) if p)
        else:
            continue
        key = _slug(name)
        if key not in taken:
            taken.add(key)
            return name
    return None


def build() -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """The three tables, header first."""
    rng = random.Random(SEED)
    companies: list[list[str]] = [["company_id", "name", "domain", "country"]]
    ids: dict[str, str] = {}
    for key, name, domain, country in HAND_COMPANIES:
        ids[key] = f"H{len(ids) + 1:04d}"
        companies.append([ids[key], name, domain, country])
    taken: set[str] = set()
    domains: set[str] = set()
    invented = [Company(rng, taken, domains) for _ in range(N_COMPANIES)]
    for i, company in enumerate(invented):
        companies.append([f"G{i + 1:05d}", company.name(), company.domain, company.country])

    crm: list[list[str]] = [["account_id", "name", "domain", "country"]]
    truth: list[list[str]] = [["account_id", "company_id", "kind"]]
    for name, domain, country, key, kind in HAND_CRM:
        account = f"A{len(crm):05d}"
        crm.append([account, name, domain, country])
        truth.append([account, ids[key] if key else "", kind])

    chosen = rng.sample(range(len(invented)), N_POSITIVE)
    for i in chosen:
        company = invented[i]
        name, name_kind = _crm_name(rng, company, _pick(rng, NAME_KINDS))
        domain, domain_kind = _crm_domain(rng, company, _pick(rng, DOMAIN_KINDS))
        country, country_kind = _crm_country(rng, company)
        kinds = "+".join(k for k in (name_kind, domain_kind, country_kind) if k)
        account = f"A{len(crm):05d}"
        crm.append([account, name, domain, country])
        truth.append([account, f"G{i + 1:05d}", kinds])
    # A few companies the CRM holds twice.
    for i in rng.sample(chosen, 12):
        company = invented[i]
        name, name_kind = _crm_name(rng, company, _pick(rng, NAME_KINDS))
        domain, domain_kind = _crm_domain(rng, company, "bare")
        account = f"A{len(crm):05d}"
        crm.append([account, name, domain, ""])
        truth.append([account, f"G{i + 1:05d}", f"duplicate_in_crm+{name_kind}+{domain_kind}"])

    outside_taken = set(taken)
    made = 0
    while made < N_NEGATIVE:
        account = f"A{len(crm):05d}"
        if rng.random() < 0.55:
            near = invented[rng.randrange(len(invented))]
            name = _lookalike(rng, near, outside_taken)
            if name is None:
                continue
            kind = "lookalike"
            country = near.country if rng.random() < 0.5 else ""
        else:
            other = Company(rng, outside_taken, domains)
            name, kind, country = other.name(), "not_in_dataset", other.country
        has_domain = rng.random() < 0.45
        domain = f"{_slug(name)}.{COUNTRIES[country or 'US'][1]}" if has_domain else ""
        if domain in domains:
            domain = ""
        domains.add(domain)
        crm.append([account, name, domain, rng.choice(COUNTRIES[country][3]) if country else ""])
        truth.append([account, "", kind])
        made += 1
    return companies, crm, truth


def write(rows: list[list[str]], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def main() -> None:
    companies, crm, truth = build()
    write(companies, HERE / "match_companies.csv")
    write(crm, HERE / "match_crm.csv")
    write(truth, HERE / "match_truth.csv")
    print(f"wrote {len(companies) - 1} companies, {len(crm) - 1} CRM accounts to {HERE}")


if __name__ == "__main__":
    main()
