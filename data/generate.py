"""Deterministic synthetic data in listbuilder's canonical schema.

Run with no arguments to regenerate the committed sample in this directory; pass sizes and
``--out`` for benchmark data::

    python data/generate.py
    python data/generate.py --out /tmp/benchdata --companies 5000000 --jobs 10000000 \\
        --funding 1700000 --crm 200000

Benchmark scripts can import it (it is not part of the package)::

    sys.path.insert(0, str(ROOT / "data"))
    from generate import generate, write

Everything is drawn from numpy generators seeded from ``seed``, one stream per table, and
built column-wise with numpy and polars (no per-row Python), so the same seed and sizes give
identical frames, and five million companies take seconds rather than hours. Each table's
stream depends only on the seed, so changing ``n_jobs`` leaves the companies unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

AS_OF = dt.date(2026, 11, 1)
SEED = 20261101
WINDOW_DAYS = 730
HERE = Path(__file__).resolve().parent

# Sizes of the committed sample. Jobs are six per company so that, with dates spread
# evenly over two years, about a tenth of companies have a sales posting in the last 60 days.
SAMPLE_SIZES = {
    "n_companies": 50_000,
    "n_jobs": 300_000,
    "n_funding": 17_000,
    "n_crm": 3_000,
    "n_opportunities": 12_000,
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "companies": {
        "company_id": pl.String(),
        "name": pl.String(),
        "domain": pl.String(),
        "industry": pl.String(),
        "employees": pl.Int64(),
        "revenue_usd": pl.Float64(),
        "country": pl.String(),
        "founded_year": pl.Int64(),
        "funding_stage": pl.String(),
        "technologies": pl.List(pl.String()),
    },
    "jobs": {
        "company_id": pl.String(),
        "posted_date": pl.Date(),
        "title": pl.String(),
        "department": pl.String(),
    },
    "funding": {
        "company_id": pl.String(),
        "announced_date": pl.Date(),
        "round_type": pl.String(),
        "amount_usd": pl.Float64(),
    },
    "crm": {
        "account_id": pl.String(),
        "name": pl.String(),
        "domain": pl.String(),
        "status": pl.String(),
    },
    "crm_truth": {
        "account_id": pl.String(),
        "company_id": pl.String(),
        "variant": pl.String(),
    },
    "opportunities": {
        "opportunity_id": pl.String(),
        "account_id": pl.String(),
        "created_date": pl.Date(),
        "close_date": pl.Date(),
        "is_closed": pl.Boolean(),
        "is_won": pl.Boolean(),
        "amount": pl.Float64(),
    },
}
FILES = {
    "companies": "companies.parquet",
    "jobs": "jobs.parquet",
    "funding": "funding.parquet",
    "crm": "crm.csv",
    "crm_truth": "crm_truth.csv",
    "opportunities": "opportunities.parquet",
}

# --------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------

INDUSTRIES = {
    "software": 0.17,
    "fintech": 0.07,
    "healthcare": 0.07,
    "manufacturing": 0.08,
    "retail": 0.06,
    "logistics": 0.04,
    "education": 0.04,
    "media": 0.04,
    "real estate": 0.05,
    "construction": 0.05,
    "professional services": 0.08,
    "telecommunications": 0.02,
    "energy": 0.03,
    "hospitality": 0.04,
    "insurance": 0.03,
    "biotech": 0.03,
    "e-commerce": 0.04,
    "cybersecurity": 0.03,
    "marketing services": 0.05,
    "government": 0.02,
}
TECH_INDUSTRIES = ("software", "fintech", "cybersecurity", "e-commerce")
VC_INDUSTRIES = (*TECH_INDUSTRIES, "biotech")
TRADITIONAL_INDUSTRIES = (
    "manufacturing",
    "construction",
    "real estate",
    "hospitality",
    "professional services",
    "government",
    "retail",
    "logistics",
)

COUNTRIES = {
    "US": 0.45,
    "GB": 0.08,
    "CA": 0.055,
    "DE": 0.055,
    "FR": 0.04,
    "AU": 0.035,
    "NL": 0.025,
    "IN": 0.045,
    "SE": 0.015,
    "ES": 0.02,
    "IT": 0.02,
    "BR": 0.025,
    "JP": 0.015,
    "IE": 0.012,
    "SG": 0.012,
    "CH": 0.01,
    "DK": 0.008,
    "NO": 0.007,
    "FI": 0.006,
    "BE": 0.008,
    "PL": 0.01,
    "MX": 0.01,
    "IL": 0.01,
    "NZ": 0.006,
    "AT": 0.006,
}
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
# What a CRM writes when the dataset's name has no suffix at all.
CRM_ADDED_SUFFIX = {"US": "Inc.", "CA": "Inc.", "GB": "Ltd", "DE": "GmbH", "AU": "Pty Ltd"}

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

FUNDING_STAGES = (
    "Bootstrapped",
    "Seed",
    "Series A",
    "Series B",
    "Series C",
    "Series D",
    "Series E+",
    "Private Equity",
    "Public",
)
# P(stage | size band) for venture-friendly industries; bands by employees:
# <10, 10-49, 50-199, 200-999, 1000-4999, 5000+.
SIZE_EDGES = (10, 50, 200, 1000, 5000)
STAGE_BY_BAND = np.array(
    [
        [0.62, 0.30, 0.06, 0.01, 0.00, 0.00, 0.00, 0.01, 0.00],
        [0.45, 0.25, 0.20, 0.07, 0.02, 0.00, 0.00, 0.01, 0.00],
        [0.30, 0.08, 0.22, 0.22, 0.10, 0.03, 0.01, 0.04, 0.00],
        [0.20, 0.02, 0.06, 0.18, 0.20, 0.12, 0.06, 0.12, 0.04],
        [0.15, 0.00, 0.01, 0.04, 0.10, 0.12, 0.12, 0.26, 0.20],
        [0.10, 0.00, 0.00, 0.00, 0.02, 0.04, 0.06, 0.28, 0.50],
    ]
)
ROUND_TYPES = ("Pre-Seed", "Seed", "Series A", "Series B", "Series C", "Series D", "Series E")
ROUND_MEDIAN_USD = (6e5, 2.5e6, 1.2e7, 3.2e7, 6e7, 1.1e8, 2e8)

# Technographics come in slots: a company has at most one CRM, one cloud, and so on.
TECH_SLOTS: dict[str, tuple[str, ...]] = {
    "crm": ("salesforce", "hubspot", "dynamics", "pipedrive", "legacy-crm"),
    "cloud": ("aws", "gcp", "azure"),
    "engagement": ("outreach", "salesloft"),
    "support": ("zendesk", "intercom"),
    "erp": ("netsuite", "sap", "quickbooks"),
}
# P(choice | size band) per slot, last column "none"; bands <50, 50-999, 1000+.
TECH_SLOT_PROBS: dict[str, np.ndarray] = {
    "crm": np.array(
        [
            [0.12, 0.30, 0.03, 0.10, 0.10, 0.35],
            [0.42, 0.25, 0.08, 0.03, 0.08, 0.14],
            [0.55, 0.05, 0.20, 0.00, 0.10, 0.10],
        ]
    ),
    "cloud": np.array(
        [[0.30, 0.10, 0.10, 0.50], [0.45, 0.15, 0.20, 0.20], [0.45, 0.15, 0.30, 0.10]]
    ),
    "engagement": np.array([[0.05, 0.04, 0.91], [0.22, 0.18, 0.60], [0.25, 0.15, 0.60]]),
    "support": np.array([[0.15, 0.10, 0.75], [0.25, 0.12, 0.63], [0.30, 0.05, 0.65]]),
    "erp": np.array([[0.02, 0.00, 0.30, 0.68], [0.18, 0.05, 0.10, 0.67], [0.15, 0.35, 0.00, 0.50]]),
}
# Independent tools: P(has it | size band).
TECH_FLAGS: dict[str, tuple[float, float, float]] = {
    "gong": (0.03, 0.15, 0.25),
    "zoominfo": (0.05, 0.20, 0.22),
    "snowflake": (0.02, 0.12, 0.25),
    "segment": (0.03, 0.10, 0.08),
    "slack": (0.30, 0.45, 0.40),
    "workday": (0.00, 0.05, 0.30),
    "stripe": (0.08, 0.10, 0.08),
    "shopify": (0.02, 0.02, 0.01),
    "marketo": (0.01, 0.10, 0.20),
    "pardot": (0.01, 0.08, 0.12),
}
MAX_TECHNOLOGIES = 8

DEPARTMENTS = (
    "sales",
    "revenue operations",
    "engineering",
    "marketing",
    "customer success",
    "finance",
    "operations",
    "product",
    "people",
)
# P(department) for traditional companies, tech companies, and tech companies growing.
DEPARTMENT_MIX = np.array(
    [
        [0.18, 0.02, 0.07, 0.08, 0.10, 0.09, 0.30, 0.02, 0.14],
        [0.20, 0.04, 0.30, 0.09, 0.10, 0.05, 0.06, 0.09, 0.07],
        [0.28, 0.06, 0.28, 0.09, 0.09, 0.04, 0.04, 0.07, 0.05],
    ]
)
TITLES: dict[str, dict[str, float]] = {
    "sales": {
        "Account Executive": 10,
        "Senior Account Executive": 6,
        "Enterprise Account Executive": 4,
        "Mid-Market Account Executive": 3,
        "SDR": 6,
        "Sales Development Representative": 8,
        "BDR": 4,
        "Business Development Representative": 5,
        "Account Manager": 5,
        "Sales Manager": 4,
        "Regional Sales Manager": 2,
        "Head of Sales": 1.5,
        "VP of Sales": 1,
        "Sales Director": 1.5,
        "Solutions Engineer": 2,
        "Inside Sales Representative": 3,
        "Channel Sales Manager": 1,
        "Strategic Account Director": 1,
    },
    "revenue operations": {
        "Revenue Operations Manager": 4,
        "Sales Operations Analyst": 4,
        "RevOps Analyst": 3,
        "Salesforce Administrator": 4,
        "Director of Revenue Operations": 1.5,
        "Sales Enablement Manager": 2,
        "CRM Manager": 2,
        "Deal Desk Analyst": 1,
        "Head of Revenue Operations": 1,
        "Revenue Operations Specialist": 2,
    },
    "engineering": {
        "Software Engineer": 8,
        "Senior Software Engineer": 7,
        "Backend Engineer": 4,
        "Senior Backend Engineer": 4,
        "Frontend Engineer": 4,
        "Senior Frontend Engineer": 3,
        "Full Stack Engineer": 4,
        "Data Engineer": 3,
        "DevOps Engineer": 3,
        "Site Reliability Engineer": 2,
        "Machine Learning Engineer": 2,
        "QA Engineer": 2,
        "Staff Engineer": 1.5,
        "Principal Engineer": 0.8,
        "Engineering Manager": 2,
        "Mobile Engineer": 1.5,
        "Security Engineer": 1.5,
        "Data Scientist": 2,
        "VP of Engineering": 0.4,
    },
    "marketing": {
        "Marketing Manager": 5,
        "Product Marketing Manager": 4,
        "Demand Generation Manager": 3,
        "Content Marketing Manager": 3,
        "Growth Marketing Manager": 3,
        "Marketing Coordinator": 3,
        "SEO Specialist": 2,
        "Field Marketing Manager": 1.5,
        "Marketing Operations Manager": 2,
        "Brand Manager": 2,
        "Social Media Manager": 2,
        "Head of Marketing": 1,
        "CMO": 0.3,
    },
    "customer success": {
        "Customer Success Manager": 8,
        "Senior Customer Success Manager": 3,
        "Customer Support Specialist": 6,
        "Support Engineer": 3,
        "Implementation Manager": 2,
        "Onboarding Specialist": 2,
        "Technical Account Manager": 2,
        "Customer Experience Associate": 2,
        "Head of Customer Success": 1,
    },
    "finance": {
        "Financial Analyst": 5,
        "Senior Accountant": 4,
        "Accountant": 4,
        "Accounts Payable Specialist": 3,
        "Controller": 2,
        "FP&A Manager": 2,
        "Finance Manager": 2,
        "Payroll Specialist": 2,
        "Billing Specialist": 2,
        "CFO": 0.4,
    },
    "operations": {
        "Operations Manager": 6,
        "Project Manager": 4,
        "Warehouse Associate": 4,
        "Operations Analyst": 3,
        "Office Manager": 3,
        "Logistics Coordinator": 3,
        "Supply Chain Analyst": 2,
        "Procurement Specialist": 2,
        "Business Operations Associate": 2,
        "Store Manager": 2,
        "Facilities Coordinator": 1.5,
        "Chief Operating Officer": 0.3,
    },
    "product": {
        "Product Manager": 6,
        "Senior Product Manager": 4,
        "Product Designer": 4,
        "UX Designer": 3,
        "UX Researcher": 2,
        "Technical Product Manager": 2,
        "Product Owner": 2,
        "Group Product Manager": 1,
        "Head of Product": 1,
    },
    "people": {
        "Recruiter": 5,
        "Technical Recruiter": 4,
        "Talent Acquisition Partner": 3,
        "HR Business Partner": 3,
        "HR Generalist": 3,
        "People Operations Manager": 2,
        "Talent Sourcer": 2,
        "Learning and Development Manager": 1,
        "Head of People": 1,
    },
}

CRM_STATUSES = {"customer": 0.25, "open_opportunity": 0.10, "prospect": 0.50, "churned": 0.15}
CRM_MATCHED_SHARE = 0.60
CRM_ICP_SHARE = 0.5  # of the matched accounts, drawn from the typical ICP population
CRM_DUPLICATE_SHARE = 0.02  # of the matched accounts, a second account for the same company
CRM_NAME_VARIANTS = {
    "exact": 0.18,
    "case": 0.20,
    "suffix": 0.26,
    "punct": 0.16,
    "short": 0.08,
    "typo": 0.07,
    "the": 0.05,
}
CRM_DOMAIN_VARIANTS = {
    "bare": 0.24,
    "url": 0.26,
    "www": 0.14,
    "upper": 0.12,
    "email": 0.06,
    "no_domain": 0.18,
}
URL_PARTS = (
    ("https://www.", "/about"),
    ("http://", ""),
    ("https://", "/"),
    ("https://www.", ""),
    ("http://www.", "/en-us/home"),
    ("https://", "/?utm_source=linkedin"),
)
EMAIL_BOXES = ("info@", "sales@", "contact@", "hello@")

# Opportunities: who wins is a logistic model of the account's true company, so that
# `listbuilder profile` and `backtest` have a known pattern to recover. The log-odds of a
# win are the base plus every effect that applies, plus the account's own noise.
OPP_BASE_LOGIT = -1.4
OPP_INDUSTRY_EFFECT = {
    "software": 1.0,
    "fintech": 1.0,
    "government": -1.2,
    "hospitality": -1.2,
    "education": -1.2,
}
OPP_CORE_BAND = (50, 999)  # employees, both ends included
OPP_CORE_BAND_EFFECT = 0.6
OPP_MICRO_BAND = (1, 9)
OPP_MICRO_BAND_EFFECT = -0.6
OPP_LEGACY_CRM_EFFECT = -1.0  # technologies include legacy-crm
OPP_HIRING_DEPARTMENTS = ("sales", "revenue operations")
OPP_HIRING_DAYS = 60  # a posting in the 60 days up to and including the created date
OPP_HIRING_EFFECT = 0.9
OPP_FUNDING_DAYS = 180  # a round of any type in the 180 days up to the created date
OPP_FUNDING_EFFECT = 0.7
OPP_ACCOUNT_NOISE_SD = 0.5  # per account, on the log-odds
OPP_OUTSIDE_WEIGHT = 0.5  # accounts not in the dataset get half the deals of the others
# Dirty rows, as real CRM exports have them (shares of all opportunities).
OPP_NO_CREATED_SHARE = 0.003
OPP_CLOSE_BEFORE_CREATE_SHARE = 0.002
OPP_DELETED_ACCOUNT_SHARE = 0.002


# --------------------------------------------------------------------------------------
# Sampling helpers
# --------------------------------------------------------------------------------------


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per table, so one table's size never shifts another's."""
    return np.random.default_rng([seed, stream])


def _probs(weights: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    p = np.asarray(list(weights.values()), dtype=np.float64)
    return list(weights), p / p.sum()


def _pick(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _pick_by_group(rng: np.random.Generator, groups: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Draw one category per row from its group's distribution (that row of ``table``).

    The groups' CDFs are laid end to end (group g spans [g, g+1)), so a single
    ``searchsorted`` of ``group + u`` serves every row at once.
    """
    table = np.asarray(table, dtype=np.float64)
    n_groups, k = table.shape
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0  # rounding must never push a draw into the next group
    flat = (cdf + np.arange(n_groups)[:, None]).ravel()
    groups = np.asarray(groups, dtype=np.int64)
    u = rng.random(len(groups))
    idx = np.searchsorted(flat, groups + u, side="right") - groups * k
    return np.minimum(idx, k - 1)


def _take(values: Sequence[str | None], codes: np.ndarray) -> pl.Series:
    """Strings for category codes; the code ``len(values)`` gives null."""
    vocab = pl.Series([*values, None], dtype=pl.String)
    return vocab.gather(pl.Series(np.asarray(codes, dtype=np.uint32)))


def _with_nulls(
    rng: np.random.Generator, codes: np.ndarray, null_code: int, share: float
) -> np.ndarray:
    return np.where(rng.random(len(codes)) < share, null_code, codes)


def _band(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")


def _draw_sorted(rng: np.random.Generator, weight: np.ndarray, k: int) -> np.ndarray:
    """``k`` indices drawn with replacement in proportion to ``weight``, in ascending order.

    Sorted uniforms make the ``searchsorted`` walk the CDF in order, several times faster
    than ``Generator.choice`` on millions of categories; the rows are re-ordered later anyway.
    """
    cdf = np.cumsum(weight, dtype=np.float64)
    u = np.sort(rng.random(k)) * cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), np.flatnonzero(weight > 0)[-1])


def _oldest_first(days_back: np.ndarray) -> np.ndarray:
    """Stable order by date, oldest first (a radix sort, since day numbers fit 16 bits)."""
    return np.argsort((WINDOW_DAYS - 1 - days_back).astype(np.uint16), kind="stable")


def _dates(as_of: dt.date, days_back: np.ndarray) -> pl.Series:
    base = np.datetime64(as_of, "D")
    return pl.Series(base - days_back.astype("timedelta64[D]"), dtype=pl.Date)


def _company_ids(idx: np.ndarray, n_companies: int) -> pl.Series:
    width = max(7, len(str(n_companies)))
    digits = pl.Series(np.asarray(idx, dtype=np.int64) + 1).cast(pl.String).str.zfill(width)
    return ("C" + digits).rename("company_id")


def _slug(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


def _norm_name(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()


def _norm_domain(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.to_lowercase()
        .str.replace(r"^[a-z]+://", "")
        .str.replace(r"[/?#].*$", "")
        .str.replace(r"^[^@]*@", "")
        .str.replace(r"^www\.", "")
    )


# --------------------------------------------------------------------------------------
# Names and domains
# --------------------------------------------------------------------------------------


def _core_vocabulary(seed: int) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
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
    rng = _rng(seed, 0)
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


def _family_weights(cores: dict[str, list[str]], population: int) -> np.ndarray:
    """Weights of the listed families and, last, of long coined names, for ``population``
    companies drawing from ``cores`` (see ``CORE_LOAD``)."""
    sizes = np.array([len(cores[name]) for name in CORE_FAMILIES])
    weight = np.minimum(list(CORE_FAMILIES.values()), CORE_LOAD * sizes / max(population, 1))
    return np.append(weight, max(0.0, 1.0 - weight.sum()))


def _draw_cores(
    rng: np.random.Generator, cores: dict[str, list[str]], n: int, weight: np.ndarray
) -> pl.DataFrame:
    """A core per name: a family by ``weight``, then a core uniformly within the family."""
    listed = list(CORE_FAMILIES)
    sizes = np.array([len(cores[name]) for name in listed])
    family = _pick(rng, weight, n)
    is_long = family == len(listed)
    flat = [core for name in listed for core in cores[name]]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    fam = np.minimum(family, len(listed) - 1)
    idx = np.where(is_long, 0, offsets[fam] + (rng.random(n) * sizes[fam]).astype(np.int64))
    core = _take(flat, idx)
    long_rows = np.flatnonzero(is_long)
    if long_rows.size:
        core = core.scatter(long_rows, _long_coined(rng, long_rows.size, cores["coined_long"]))
    return pl.DataFrame({"core": core, "family": _take([*listed, "coined_long"], family)})


def _long_coined(rng: np.random.Generator, k: int, starts: Sequence[str]) -> pl.Series:
    """``k`` coined names of a start, one or two consonant-vowel links and an ending."""
    links = [c + v for c in LONG_LINK_CONSONANTS for v in LONG_LINK_VOWELS]
    second = rng.integers(0, len(links) + 1, k)
    # A tenth of names stop after one link: short names are scarce, so they repeat sooner.
    second = np.where(rng.random(k) < 0.1, len(links), np.minimum(second, len(links) - 1))
    parts = pl.DataFrame(
        {
            "a": _take(starts, rng.integers(0, len(starts), k)),
            "b": _take(links, rng.integers(0, len(links), k)),
            "c": _take(links, second),
            "d": _take(LONG_ENDS, rng.integers(0, len(LONG_ENDS), k)),
        }
    )
    return parts.select(
        pl.concat_str([pl.col("a"), pl.col("b"), pl.col("c"), pl.col("d")], ignore_nulls=True)
    ).to_series()


def _descriptor_vocabulary() -> list[str]:
    own = [d for industry in INDUSTRIES for d in DESCRIPTORS[industry]]
    return list(dict.fromkeys([*own, *GENERIC_DESCRIPTORS, *SURNAME_DESCRIPTORS]))


def _draw_descriptors(
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
    code = _pick_by_group(rng, industry, table)
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
    return _take(vocab, code)


def _draw_suffixes(
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
    codes = _pick_by_group(rng, country, table)
    comma_ok = np.isin(codes, [vocab.index(s) for s in COMMA_SUFFIXES])
    sep = np.where(comma_ok & (rng.random(len(codes)) < 0.35), ", ", " ")
    return _take(vocab, codes), pl.Series(sep, dtype=pl.String)


def _draw_tlds(rng: np.random.Generator, country: np.ndarray, industry: np.ndarray) -> pl.Series:
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


def _full_name(core: pl.Expr, descriptor: pl.Expr, sep: pl.Expr, suffix: pl.Expr) -> pl.Expr:
    return pl.concat_str([core, pl.lit(" ") + descriptor, sep + suffix], ignore_nulls=True)


def _assign_domains(parts: pl.DataFrame) -> pl.Series:
    """A unique domain per row, made from its name the way companies pick them.

    Candidates are tried in order (``brightwave.com``, ``brightwaveanalytics.com``,
    ``brightwave-analytics.com``, ``getbrightwave.com``, ``brightwavehq.com``, another
    TLD, ...): each pass offers every unplaced row its next candidate, and the first row
    asking for a free one gets it. Rows left over get the core plus their row number,
    unique because no candidate has digits.
    """
    core = _slug(pl.col("core"))
    desc = _slug(pl.col("descriptor")).fill_null("")
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


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def _companies(n: int, as_of: dt.date, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The companies table, and the hidden draws the other tables are built from."""
    rng = _rng(seed, 1)
    inside, _ = _core_vocabulary(seed)
    industries, p_industry = _probs(INDUSTRIES)
    countries, p_country = _probs(COUNTRIES)
    industry = _with_nulls(rng, _pick(rng, p_industry, n), len(industries), 0.02)
    country = _with_nulls(rng, _pick(rng, p_country, n), len(countries), 0.02)
    is_tech = np.isin(industry, [industries.index(i) for i in TECH_INDUSTRIES])
    is_vc = np.isin(industry, [industries.index(i) for i in VC_INDUSTRIES])
    is_trad = np.isin(industry, [industries.index(i) for i in TRADITIONAL_INDUSTRIES])

    # Size drives almost everything else, so draw it first: log-normal, median ~40.
    size = np.exp(rng.normal(np.log(40.0), 1.9, n))
    size = np.clip(np.rint(size), 1, 400_000).astype(np.int64)
    band = _band(size, SIZE_EDGES)

    # Venture stages are for venture industries; elsewhere most of that mass is
    # bootstrapped (small firms) or private equity (large ones).
    kind = np.where(is_vc, 0, np.where(is_trad, 2, 1))
    tables = []
    for moved in (0.0, 0.45, 0.8):
        t = STAGE_BY_BAND.copy()
        venture = t[:, 1:7] * moved
        t[:, 1:7] -= venture
        to_pe = np.array([0.0, 0.0, 0.1, 0.4, 0.6, 0.6])
        t[:, 0] += venture.sum(axis=1) * (1 - to_pe)
        t[:, 7] += venture.sum(axis=1) * to_pe
        tables.append(t)
    stage = _pick_by_group(rng, kind * len(STAGE_BY_BAND) + band, np.vstack(tables))
    null_share = np.where(industry == industries.index("government"), 0.6, 0.14)
    stage = np.where(rng.random(n) < null_share, len(FUNDING_STAGES), stage)

    # Young firms are small and venture-backed; old ones large, public or PE-owned.
    scale = 4.0 + 5.0 * np.log10(size)
    early = (stage == 1) | (stage == 2)
    mature = (stage == 7) | (stage == 8)
    scale = scale * np.select([early, mature], [0.5, 1.5], 1.0)
    age = rng.gamma(1.5, scale / 1.5)
    last_year = as_of.year - 1
    founded = np.clip(last_year - np.floor(age), 1950, last_year).astype(np.int64)

    # A latent "growing" flag ties hiring and funding to each other and to the ICP.
    p_growth = 0.10 + 0.20 * ((stage >= 1) & (stage <= 4)) + 0.10 * is_tech
    growth = rng.random(n) < p_growth

    multiplier = np.ones(len(industries) + 1)
    for name, m in {
        "software": 1.2,
        "fintech": 1.3,
        "retail": 0.8,
        "hospitality": 0.5,
        "education": 0.6,
        "government": 0.7,
        "energy": 1.4,
        "insurance": 1.3,
    }.items():
        multiplier[industries.index(name)] = m
    revenue = size * rng.uniform(150_000, 250_000, n) * rng.lognormal(0.0, 0.35, n)
    revenue = np.round(revenue * multiplier[industry], -3)
    revenue_null = rng.random(n) < 0.10
    employees_null = rng.random(n) < 0.05

    cores = _draw_cores(rng, inside, n, _family_weights(inside, n))
    descriptor = _draw_descriptors(
        rng, industry, cores.get_column("family"), cores.get_column("core")
    )
    suffix, sep = _draw_suffixes(rng, country, share=0.35)
    parts = cores.with_columns(
        descriptor=descriptor,
        suffix=suffix,
        sep=sep,
        tld=_draw_tlds(rng, country, industry),
        country=_take(countries, country),
    )
    domain = _assign_domains(parts)
    domain_null = rng.random(n) < 0.03

    technologies = _technologies(rng, size, industry, industries)
    tech_null = rng.random(n) < 0.12

    companies = pl.DataFrame(
        {
            "company_id": _company_ids(np.arange(n), n),
            "name": parts.select(
                _full_name(pl.col("core"), pl.col("descriptor"), pl.col("sep"), pl.col("suffix"))
            ).to_series(),
            "domain": domain,
            "industry": _take(industries, industry),
            "employees": pl.Series(size).set(pl.Series(employees_null), None),
            "revenue_usd": pl.Series(revenue, dtype=pl.Float64).set(pl.Series(revenue_null), None),
            "country": parts.get_column("country"),
            "founded_year": pl.Series(founded, dtype=pl.Int64),
            "funding_stage": _take(FUNDING_STAGES, stage),
            "technologies": technologies.set(pl.Series(tech_null), None),
        }
    ).with_columns(domain=pl.when(pl.Series(domain_null)).then(None).otherwise(pl.col("domain")))
    hidden = parts.with_columns(
        size=pl.Series(size),
        stage=pl.Series(stage),
        industry_code=pl.Series(industry),
        tech=pl.Series(is_tech),
        growth=pl.Series(growth),
    )
    return companies.cast(SCHEMAS["companies"]), hidden  # type: ignore[arg-type]


def _technologies(
    rng: np.random.Generator, size: np.ndarray, industry: np.ndarray, industries: list[str]
) -> pl.Series:
    """Up to eight tools per company: one per slot (CRM, cloud, ...) plus independent tools."""
    n = len(size)
    band = _band(size, (50, 1000))
    tech = np.isin(industry, [industries.index(i) for i in TECH_INDUSTRIES])
    shops = np.isin(industry, [industries.index(i) for i in ("retail", "e-commerce")])
    slot = {name: _pick_by_group(rng, band, TECH_SLOT_PROBS[name]) for name in TECH_SLOTS}
    salesforce = slot["crm"] == 0
    boost = {
        "stripe": np.where(tech | shops, 3.5, 1.0),
        "shopify": np.where(shops, 20.0, 1.0),
        "snowflake": np.where(tech, 2.0, 1.0),
        "segment": np.where(tech, 2.5, 0.5),
        "slack": np.where(tech, 1.8, 1.0),
        # Pardot is sold with Salesforce; HubSpot users rarely add Marketo.
        "pardot": np.where(salesforce, 3.0, 0.1),
        "marketo": np.where(slot["crm"] == 1, 0.2, 1.0),
    }
    have = {}
    for name, probs in TECH_FLAGS.items():
        p = np.asarray(probs)[band] * boost.get(name, 1.0)
        have[name] = rng.random(n) < np.minimum(p, 0.9)
    order = [
        "crm",
        "marketo",
        "pardot",
        "engagement",
        "gong",
        "zoominfo",
        "cloud",
        "snowflake",
        "segment",
        "stripe",
        "shopify",
        "support",
        "slack",
        "erp",
        "workday",
    ]
    vocab = [t for name in order for t in TECH_SLOTS.get(name, (name,))]
    codes = np.empty((n, len(order)), dtype=np.int16)
    for j, name in enumerate(order):
        if name in TECH_SLOTS:
            options = TECH_SLOTS[name]
            first = vocab.index(options[0])
            codes[:, j] = np.where(slot[name] < len(options), first + slot[name], -1)
        else:
            codes[:, j] = np.where(have[name], vocab.index(name), -1)
    # Lists are assembled as Arrow offsets plus values: one pass, no per-row objects,
    # which matters at five million rows.
    keep = codes >= 0
    keep &= np.cumsum(keep, axis=1, dtype=np.int8) <= MAX_TECHNOLOGIES
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    values = pa.array(vocab, type=pa.large_string()).take(pa.array(codes[keep]))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    return pl.Series("technologies", lists, dtype=pl.List(pl.String))


def _jobs(n_jobs: int, hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Job postings: bigger and growing companies post more; dates even over two years."""
    rng = _rng(seed, 2)
    n = hidden.height
    size = hidden.get_column("size").to_numpy()
    growth = hidden.get_column("growth").to_numpy()
    tech = hidden.get_column("tech").to_numpy()
    # Many small firms never post publicly; growth shows up as more postings.
    posts = rng.random(n) < np.where(growth, 0.9, 0.5)
    weight = size.astype(np.float64) ** 0.5 * np.where(growth, 3.0, 1.0) * posts
    if weight.sum() == 0:
        weight = np.ones(n)
    company = _draw_sorted(rng, weight, n_jobs)
    kind = (tech.astype(np.int64) * (1 + growth.astype(np.int64)))[company]
    department = _pick_by_group(rng, kind, DEPARTMENT_MIX)
    titles = [t for d in DEPARTMENTS for t in TITLES[d]]
    title_table = np.zeros((len(DEPARTMENTS), len(titles)))
    col = 0
    for d, dept in enumerate(DEPARTMENTS):
        for w in TITLES[dept].values():
            title_table[d, col] = w
            col += 1
    title = _pick_by_group(rng, department, title_table)
    days_back = rng.integers(0, WINDOW_DAYS, n_jobs)
    # Postings arrive as a dated feed: oldest first, then by company.
    order = _oldest_first(days_back)
    return pl.DataFrame(
        {
            "company_id": _company_ids(company[order], n),
            "posted_date": _dates(as_of, days_back[order]),
            "title": _take(titles, title[order]),
            "department": _take(DEPARTMENTS, department[order]),
        }
    ).cast(SCHEMAS["jobs"])  # type: ignore[arg-type]


def _funding(n_rounds: int, hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Funding rounds, drawn mostly for venture-stage companies; later rounds rank higher."""
    rng = _rng(seed, 3)
    n = hidden.height
    size = hidden.get_column("size").to_numpy()
    stage = hidden.get_column("stage").to_numpy()
    growth = hidden.get_column("growth").to_numpy()
    by_stage = np.array([0.03, 1.0, 1.3, 1.3, 1.1, 0.9, 0.8, 0.15, 0.1, 0.35])
    weight = by_stage[stage] * np.where(growth, 2.5, 1.0)
    company = _draw_sorted(rng, weight, n_rounds)
    days_back = rng.integers(0, WINDOW_DAYS, n_rounds)

    # Within a company, oldest first: the last round reaches the company's current stage,
    # each earlier one a step below.
    order = np.lexsort((-days_back, company))
    company, days_back = company[order], days_back[order]
    starts = np.flatnonzero(np.r_[True, company[1:] != company[:-1]])
    counts = np.diff(np.r_[starts, len(company)])
    rank = np.arange(len(company)) - np.repeat(starts, counts)
    steps_to_last = np.repeat(counts, counts) - 1 - rank
    band = _band(size, SIZE_EDGES)
    top_by_stage = np.array([0, 1, 2, 3, 4, 5, 6, 6, 6, 0])
    top = np.where(stage == len(FUNDING_STAGES), np.minimum(band + 1, 6), top_by_stage[stage])[
        company
    ]
    ordinal = np.maximum(top - steps_to_last, 0)
    p_debt = np.array([1.0, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.6, 0.6, 0.1])[stage[company]]
    debt = rng.random(len(company)) < p_debt

    median = np.asarray(ROUND_MEDIAN_USD)[ordinal]
    debt_median = 2e6 * np.sqrt(size[company] / 50.0)
    amount = np.where(debt, debt_median, median) * rng.lognormal(0.0, 0.6, len(company))
    # Announced amounts are round: two significant figures.
    magnitude = 10.0 ** (np.floor(np.log10(np.maximum(amount, 1.0))) - 1)
    amount = np.round(amount / magnitude) * magnitude
    amount_null = rng.random(len(company)) < 0.07
    round_code = np.where(debt, len(ROUND_TYPES), ordinal)

    order = _oldest_first(days_back)
    return pl.DataFrame(
        {
            "company_id": _company_ids(company[order], n),
            "announced_date": _dates(as_of, days_back[order]),
            "round_type": _take([*ROUND_TYPES, "Debt"], round_code[order]),
            "amount_usd": pl.Series(amount[order], dtype=pl.Float64).set(
                pl.Series(amount_null), None
            ),
        }
    ).cast(SCHEMAS["funding"])  # type: ignore[arg-type]


def _account_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """Salesforce-style 15-character ids (``001A000000abc12``), unique and increasing."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    counter = 7_000_000 + np.cumsum(rng.integers(1, 2_000, n))
    digits = []
    for _ in range(11):
        digits.append(counter % 62)
        counter = counter // 62
    chars = pl.DataFrame(
        {f"d{i}": _take(list(alphabet), d) for i, d in enumerate(reversed(digits))}
    )
    return chars.select(pl.concat_str([pl.lit("001A"), pl.all()]).alias("account_id")).to_series()


def _crm_name(kind: pl.Expr) -> pl.Expr:
    """The CRM's spelling of a dataset company's name, for each name-variant kind."""
    name = pl.col("name")
    has_suffix = pl.col("suffix").is_not_null()
    base = pl.concat_str([pl.col("core"), pl.lit(" ") + pl.col("descriptor")], ignore_nulls=True)
    new_sep = pl.when(pl.col("sep") == ", ").then(pl.lit(" ")).otherwise(pl.lit(", "))
    swapped = (
        pl.when(has_suffix & pl.col("alt_suffix").is_null())
        .then(base)
        .when(has_suffix)
        .then(pl.concat_str([base, pl.col("sep"), pl.col("alt_suffix")]))
        .otherwise(pl.concat_str([base, pl.lit(", "), pl.col("added_suffix")]))
    )
    punct = (
        pl.when(name.str.contains("&", literal=True))
        .then(name.str.replace_all("&", "and", literal=True))
        .when(name.str.contains(".", literal=True))
        .then(name.str.replace_all(r"[.,]", ""))
        .when(has_suffix)
        .then(pl.concat_str([base, new_sep, pl.col("suffix")]))
        .otherwise(name.str.replace(" ", "-", literal=True))
    )
    cut = pl.col("typo_at")
    typo = pl.concat_str([name.str.slice(0, cut), name.str.slice(cut + 1)])
    case = pl.when(pl.col("upper")).then(name.str.to_uppercase()).otherwise(name.str.to_lowercase())
    return (
        pl.when(kind == "case")
        .then(case)
        .when(kind == "suffix")
        .then(swapped)
        .when(kind == "punct")
        .then(punct)
        .when(kind == "short")
        .then(pl.col("core"))
        .when(kind == "typo")
        .then(typo)
        .when(kind == "the")
        .then(pl.lit("The ") + name)
        .otherwise(name)
    )


def _crm_domain(kind: pl.Expr) -> pl.Expr:
    """The CRM's spelling of a domain, for each domain-variant kind."""
    d = pl.col("domain")
    pick = pl.col("pick")
    url_prefix = pl.lit(pl.Series([p for p, _ in URL_PARTS])).gather(pick % len(URL_PARTS))
    url_suffix = pl.lit(pl.Series([s for _, s in URL_PARTS])).gather(pick % len(URL_PARTS))
    box = pl.lit(pl.Series(EMAIL_BOXES)).gather(pick % len(EMAIL_BOXES))
    upper = (
        pl.when(pick % 3 == 0)
        .then(pl.lit("WWW.") + d.str.to_uppercase())
        .when(pick % 3 == 1)
        .then(d.str.to_uppercase())
        .otherwise(d.str.slice(0, 1).str.to_uppercase() + d.str.slice(1))
    )
    return (
        pl.when(kind == "url")
        .then(pl.concat_str([url_prefix, d, url_suffix]))
        .when(kind == "www")
        .then(pl.lit("www.") + d)
        .when(kind == "upper")
        .then(upper)
        .when(kind == "email")
        .then(box + d)
        .when(kind == "no_domain")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(d)
    )


def _crm(
    n_crm: int, companies: pl.DataFrame, hidden: pl.DataFrame, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CRM accounts (about 60% dataset companies written differently) and the truth."""
    rng = _rng(seed, 4)
    n = companies.height
    n_matched = min(round(n_crm * CRM_MATCHED_SHARE), n)
    n_dup = round(n_matched * CRM_DUPLICATE_SHARE)
    n_unique = n_matched - n_dup

    # Half of the known companies come from the population a typical ICP targets, so that
    # suppression visibly changes the lists.
    icp = (
        companies.select(
            pl.col("industry").is_in(["software", "fintech"])
            & pl.col("employees").is_between(50, 1000)
            & pl.col("country").is_in(["US", "CA"])
        )
        .to_series()
        .fill_null(False)
        .to_numpy()
    )
    icp_pool = np.flatnonzero(icp)
    n_icp = min(round(n_unique * CRM_ICP_SHARE), len(icp_pool))
    chosen = rng.choice(icp_pool, size=n_icp, replace=False)
    rest_pool = np.setdiff1d(np.arange(n), chosen, assume_unique=True)
    chosen = np.concatenate([chosen, rng.choice(rest_pool, size=n_unique - n_icp, replace=False)])
    dups = rng.choice(chosen, size=n_dup, replace=False) if n_dup else np.zeros(0, np.int64)
    matched_idx = np.concatenate([chosen, dups])
    is_dup = np.r_[np.zeros(len(chosen), bool), np.ones(len(dups), bool)]

    matched = _written_differently(rng, companies, hidden, matched_idx, is_dup)
    outside = _outside_accounts(rng, n_crm - len(matched_idx), companies, seed)
    accounts = pl.concat([matched, outside])
    accounts = accounts[rng.permutation(accounts.height)]
    accounts = accounts.with_columns(account_id=_account_ids(rng, accounts.height))
    statuses, p_status = _probs(CRM_STATUSES)
    accounts = accounts.with_columns(status=_take(statuses, _pick(rng, p_status, accounts.height)))
    crm = accounts.select(list(SCHEMAS["crm"])).cast(SCHEMAS["crm"])  # type: ignore[arg-type]
    truth = accounts.select(list(SCHEMAS["crm_truth"])).cast(SCHEMAS["crm_truth"])  # type: ignore[arg-type]
    return crm, truth


def _written_differently(
    rng: np.random.Generator,
    companies: pl.DataFrame,
    hidden: pl.DataFrame,
    idx: np.ndarray,
    is_dup: np.ndarray,
) -> pl.DataFrame:
    """CRM rows for dataset companies, each spelled in one documented way or two."""
    k = len(idx)
    name_kinds, p_name = _probs(CRM_NAME_VARIANTS)
    domain_kinds, p_domain = _probs(CRM_DOMAIN_VARIANTS)
    alt_table = pl.DataFrame(
        {
            "suffix": [s for s, alts in LEGAL_SUFFIXES.items() for _ in alts],
            "alt_suffix": [a for alts in LEGAL_SUFFIXES.values() for a in alts],
        }
    ).with_columns(alt_rank=pl.int_range(pl.len()).over("suffix"), alt_n=pl.len().over("suffix"))
    rows = pl.DataFrame(
        {
            "company_id": companies.get_column("company_id").gather(idx),
            "name": companies.get_column("name").gather(idx),
            "domain": companies.get_column("domain").gather(idx),
            "name_kind": _take(name_kinds, _pick(rng, p_name, k)),
            "domain_kind": _take(domain_kinds, _pick(rng, p_domain, k)),
            "pick": pl.Series(rng.integers(0, 1 << 20, k), dtype=pl.Int64),
            "upper": pl.Series(rng.random(k) < 0.6),
            "drop_suffix": pl.Series(rng.random(k) < 0.2),
            "typo_u": pl.Series(rng.random(k)),
            "duplicate": pl.Series(is_dup),
        }
    ).hstack(hidden.select("core", "descriptor", "suffix", "sep", "country")[idx])
    rows = rows.with_columns(
        alt_rank=pl.when(pl.col("drop_suffix")).then(None).otherwise(pl.col("pick"))
    ).join(
        alt_table.select("suffix", "alt_n").unique("suffix"),
        on="suffix",
        how="left",
        maintain_order="left",
    )
    rows = rows.with_columns(alt_rank=pl.col("alt_rank") % pl.col("alt_n")).join(
        alt_table.drop("alt_n"), on=["suffix", "alt_rank"], how="left", maintain_order="left"
    )
    added = pl.col("country").replace_strict(
        CRM_ADDED_SUFFIX, default="Inc.", return_dtype=pl.String
    )
    # Fall back to a kind that changes something when the drawn one cannot.
    name_kind = pl.col("name_kind")
    plain = pl.col("descriptor").is_null() & pl.col("suffix").is_null()
    name_kind = (
        pl.when((name_kind == "short") & plain)
        .then(pl.lit("case"))
        .when((name_kind == "typo") & (pl.col("core").str.len_chars() < 5))
        .then(pl.lit("case"))
        .when((name_kind == "punct") & plain & ~pl.col("core").str.contains(" ", literal=True))
        .then(pl.lit("case"))
        # With no domain to write differently, the name must be.
        .when((name_kind == "exact") & pl.col("domain").is_null())
        .then(pl.lit("case"))
        .otherwise(name_kind)
    )
    rows = rows.with_columns(
        name_kind=name_kind,
        added_suffix=added,
        # Typos land inside the core, past its first letter.
        typo_at=(1 + pl.col("typo_u") * (pl.col("core").str.len_chars() - 2)).cast(pl.Int64),
    )
    domain_kind = (
        pl.when(pl.col("domain").is_null())
        .then(pl.lit("no_domain"))
        .when((pl.col("domain_kind") == "bare") & (pl.col("name_kind") == "exact"))
        .then(pl.lit("url"))
        .otherwise(pl.col("domain_kind"))
    )
    rows = rows.with_columns(domain_kind=domain_kind)
    variant = pl.concat_str(
        [
            pl.when(pl.col("duplicate")).then(pl.lit("duplicate")),
            pl.when(pl.col("name_kind") != "exact").then(pl.col("name_kind")),
            pl.when(pl.col("domain_kind") != "bare").then(pl.col("domain_kind")),
        ],
        separator="+",
        ignore_nulls=True,
    )
    return rows.select(
        "company_id",
        _crm_name(pl.col("name_kind")).alias("name"),
        _crm_domain(pl.col("domain_kind")).alias("domain"),
        variant.alias("variant"),
    )


def _outside_accounts(
    rng: np.random.Generator, k: int, companies: pl.DataFrame, seed: int
) -> pl.DataFrame:
    """CRM accounts for organisations the dataset does not hold, from cores kept apart.

    Cores kept apart cannot collide with the dataset's, but a descriptor or domain form
    still could by chance, so any account matching a dataset name or domain exactly is
    dropped and replaced from a further draw.
    """
    inside, outside = _core_vocabulary(seed)
    # The dataset's mix of name families, so that outside names look like inside ones.
    weight = _family_weights(inside, companies.height)
    known_names = companies.select(_norm_name(pl.col("name")).alias("n")).unique()
    known_domains = companies.select(pl.col("domain").alias("d")).drop_nulls().unique()
    batches: list[pl.DataFrame] = []
    found = 0
    for _ in range(5):
        if batches and found >= k:
            break
        m = (k - found) * 5 // 4 + 10
        batch = (
            _outside_batch(rng, m, outside, weight)
            .with_columns(n=_norm_name(pl.col("name")), d=_norm_domain(pl.col("domain")))
            .join(known_names, on="n", how="anti", maintain_order="left")
            .join(known_domains, on="d", how="anti", maintain_order="left")
        )
        batches.append(batch)
        found += batch.height
    if found < k:
        raise RuntimeError(f"could not draw {k} CRM accounts outside the dataset")
    return (
        pl.concat(batches)
        .head(k)
        .select(
            pl.lit(None, dtype=pl.String).alias("company_id"),
            "name",
            "domain",
            pl.lit("not_in_dataset").alias("variant"),
        )
    )


def _outside_batch(
    rng: np.random.Generator, m: int, outside: dict[str, list[str]], weight: np.ndarray
) -> pl.DataFrame:
    _, p_industry = _probs(INDUSTRIES)
    _, p_country = _probs(COUNTRIES)
    industry = _pick(rng, p_industry, m)
    country = _pick(rng, p_country, m)
    cores = _draw_cores(rng, outside, m, weight)
    suffix, sep = _draw_suffixes(rng, country, share=0.45)
    parts = cores.with_columns(
        descriptor=_draw_descriptors(
            rng, industry, cores.get_column("family"), cores.get_column("core")
        ),
        suffix=suffix,
        sep=sep,
        tld=_draw_tlds(rng, country, industry),
    )
    domain_kinds, p_domain = _probs(CRM_DOMAIN_VARIANTS)
    rows = parts.select(
        _full_name(pl.col("core"), pl.col("descriptor"), pl.col("sep"), pl.col("suffix")).alias(
            "name"
        ),
        pl.concat_str([_slug(pl.col("core")), pl.lit("."), pl.col("tld")]).alias("domain"),
    ).with_columns(
        domain_kind=_take(domain_kinds, _pick(rng, p_domain, m)),
        pick=pl.Series(rng.integers(0, 1 << 20, m), dtype=pl.Int64),
    )
    return rows.with_columns(domain=_crm_domain(pl.col("domain_kind")))


def _salesforce_ids(rng: np.random.Generator, n: int, prefix: str) -> pl.Series:
    """Unique, increasing 15-character Salesforce-style ids after a 4-character prefix."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    counter = 9_000_000 + np.cumsum(rng.integers(1, 2_000, n))
    digits = []
    for _ in range(11):
        digits.append(counter % 62)
        counter = counter // 62
    chars = pl.DataFrame(
        {f"d{i}": _take(list(alphabet), d) for i, d in enumerate(reversed(digits))}
    )
    return chars.select(pl.concat_str([pl.lit(prefix), pl.all()]).alias("id")).to_series()


def _events_before(
    deals: pl.DataFrame, events: pl.DataFrame, date_col: str, days: int
) -> pl.Series:
    """Per deal, does its company have an event in the ``days`` up to its created date?"""
    hits = (
        deals.select("row", "company_id", "created")
        .join(events.select("company_id", date_col), on="company_id", how="inner")
        .filter(
            pl.col(date_col).is_between(
                pl.col("created") - pl.duration(days=days), pl.col("created"), closed="both"
            )
        )
        .select("row")
        .unique()
    )
    return deals.select(pl.col("row").is_in(hits.get_column("row").implode())).to_series()


def _opportunities(
    n_opps: int,
    companies: pl.DataFrame,
    crm: pl.DataFrame,
    truth: pl.DataFrame,
    jobs: pl.DataFrame,
    funding: pl.DataFrame,
    as_of: dt.date,
    seed: int,
) -> pl.DataFrame:
    """Opportunities on CRM accounts over the two years to ``as_of``, won per OPP_* above.

    Signals are read as of each deal's created date, exactly as listbuilder evaluates
    them, so a hiring posting dated after a deal was opened never influenced it.
    """
    rng = _rng(seed, 5)
    if n_opps == 0 or crm.height == 0:
        return pl.DataFrame(schema=SCHEMAS["opportunities"])
    accounts = truth.select("account_id", "company_id").join(
        companies.select("company_id", "industry", "employees", "technologies"),
        on="company_id",
        how="left",
        maintain_order="left",
    )
    inside = accounts.get_column("company_id").is_not_null().to_numpy()
    weight = rng.gamma(2.0, 1.0, accounts.height) * np.where(inside, 1.0, OPP_OUTSIDE_WEIGHT)
    account = rng.choice(accounts.height, size=n_opps, p=weight / weight.sum())
    noise = rng.normal(0.0, OPP_ACCOUNT_NOISE_SD, accounts.height)[account]
    days_back = rng.integers(0, WINDOW_DAYS, n_opps)
    deals = accounts[account].with_columns(
        row=pl.Series(np.arange(n_opps)),
        created=_dates(as_of, days_back),
    )
    departments = [d.lower() for d in OPP_HIRING_DEPARTMENTS]
    hiring = _events_before(
        deals,
        jobs.filter(pl.col("department").str.to_lowercase().is_in(departments)),
        "posted_date",
        OPP_HIRING_DAYS,
    ).to_numpy()
    funded = _events_before(deals, funding, "announced_date", OPP_FUNDING_DAYS).to_numpy()

    industry = deals.get_column("industry").fill_null("").to_numpy()
    employees = deals.get_column("employees").fill_null(-1).to_numpy()
    legacy = (
        deals.select(pl.col("technologies").list.contains("legacy-crm").fill_null(False))
        .to_series()
        .to_numpy()
    )
    logit = np.full(n_opps, OPP_BASE_LOGIT) + noise
    for name, effect in OPP_INDUSTRY_EFFECT.items():
        logit += np.where(industry == name, effect, 0.0)
    core = (employees >= OPP_CORE_BAND[0]) & (employees <= OPP_CORE_BAND[1])
    micro = (employees >= OPP_MICRO_BAND[0]) & (employees <= OPP_MICRO_BAND[1])
    logit += np.where(core, OPP_CORE_BAND_EFFECT, 0.0)
    logit += np.where(micro, OPP_MICRO_BAND_EFFECT, 0.0)
    logit += np.where(legacy, OPP_LEGACY_CRM_EFFECT, 0.0)
    logit += np.where(hiring, OPP_HIRING_EFFECT, 0.0)
    logit += np.where(funded, OPP_FUNDING_EFFECT, 0.0)
    won = rng.random(n_opps) < 1.0 / (1.0 + np.exp(-logit))

    # Sales cycles of two weeks to several months; a deal whose close date is still ahead
    # of as_of is open, and its close date is the expected one, as in Salesforce.
    cycle = 14 + np.rint(rng.gamma(2.0, 25.0, n_opps)).astype(np.int64)
    closed = cycle <= days_back
    size = np.where(employees > 0, employees, np.exp(rng.normal(np.log(40.0), 1.9, n_opps)))
    amount = 12_000.0 * (np.maximum(size, 1.0) / 50.0) ** 0.45 * rng.lognormal(0.0, 0.5, n_opps)
    amount = np.maximum(np.round(amount, -2), 500.0)
    amount_null = rng.random(n_opps) < 0.04

    # Dirty rows: a missing created date, a close date before the created date, and an
    # account deleted from the CRM since (its id is in no CRM export).
    u = rng.random(n_opps)
    no_created = u < OPP_NO_CREATED_SHARE
    backwards = (u >= OPP_NO_CREATED_SHARE) & (
        u < OPP_NO_CREATED_SHARE + OPP_CLOSE_BEFORE_CREATE_SHARE
    )
    deleted = rng.random(n_opps) < OPP_DELETED_ACCOUNT_SHARE
    close_back = np.where(backwards, days_back + rng.integers(1, 30, n_opps), days_back - cycle)
    closed |= backwards

    order = np.lexsort((np.arange(n_opps), -days_back))
    frame = pl.DataFrame(
        {
            "account_id": deals.get_column("account_id"),
            "created_date": _dates(as_of, days_back).set(pl.Series(no_created), None),
            "close_date": _dates(as_of, close_back),
            "is_closed": pl.Series(closed),
            "is_won": pl.Series(closed & won),
            "amount": pl.Series(amount, dtype=pl.Float64).set(pl.Series(amount_null), None),
        }
    )[order]
    ghost_ids = _salesforce_ids(rng, int(deleted.sum()), "001B")
    account_ids = frame.get_column("account_id").scatter(np.flatnonzero(deleted), ghost_ids)
    return (
        frame.with_columns(
            opportunity_id=_salesforce_ids(rng, n_opps, "006A"), account_id=account_ids
        )
        .select(list(SCHEMAS["opportunities"]))
        .cast(SCHEMAS["opportunities"])  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def generate(
    n_companies: int = SAMPLE_SIZES["n_companies"],
    n_jobs: int = SAMPLE_SIZES["n_jobs"],
    n_funding: int = SAMPLE_SIZES["n_funding"],
    n_crm: int = SAMPLE_SIZES["n_crm"],
    as_of: dt.date = AS_OF,
    seed: int = SEED,
    n_opportunities: int = SAMPLE_SIZES["n_opportunities"],
) -> dict[str, pl.DataFrame]:
    """Generate every table in the canonical schema.

    Returns frames keyed ``companies``, ``jobs``, ``funding``, ``crm``, ``crm_truth``
    (the true company of each CRM account and how its spelling differs) and
    ``opportunities`` (deals on CRM accounts, won per the ``OPP_*`` model). Event and
    created dates fall in the 730 days ending on ``as_of``, both ends included. The same
    arguments always give equal frames.
    """
    if n_companies < 1:
        raise ValueError("n_companies must be at least 1")
    if min(n_jobs, n_funding, n_crm, n_opportunities) < 0:
        raise ValueError("table sizes cannot be negative")
    companies, hidden = _companies(n_companies, as_of, seed)
    crm, truth = _crm(n_crm, companies, hidden, seed)
    jobs = _jobs(n_jobs, hidden, as_of, seed)
    funding = _funding(n_funding, hidden, as_of, seed)
    opportunities = _opportunities(
        n_opportunities, companies, crm, truth, jobs, funding, as_of, seed
    )
    return {
        "companies": companies,
        "jobs": jobs,
        "funding": funding,
        "crm": crm,
        "crm_truth": truth,
        "opportunities": opportunities,
    }


def write(
    frames: Mapping[str, pl.DataFrame], out_dir: str | os.PathLike[str], compression_level: int = 9
) -> dict[str, Path]:
    """Write the frames under ``out_dir`` with the canonical file names; return the paths.

    Each file is written to a temporary name and renamed into place, so a reader never
    sees half a file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for table, frame in frames.items():
        path = out / FILES[table]
        tmp = path.with_name(f".{path.name}.tmp")
        if path.suffix == ".parquet":
            frame.write_parquet(tmp, compression="zstd", compression_level=compression_level)
        else:
            frame.write_csv(tmp)
        os.replace(tmp, path)
        paths[table] = path
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: regenerate the sample, or write benchmark-sized data elsewhere."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: data/)")
    parser.add_argument("--companies", type=int, default=SAMPLE_SIZES["n_companies"])
    parser.add_argument("--jobs", type=int, default=SAMPLE_SIZES["n_jobs"])
    parser.add_argument("--funding", type=int, default=SAMPLE_SIZES["n_funding"])
    parser.add_argument("--crm", type=int, default=SAMPLE_SIZES["n_crm"])
    parser.add_argument("--opportunities", type=int, default=SAMPLE_SIZES["n_opportunities"])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument(
        "--compression-level", type=int, default=None, help="zstd level (default: 9 small, 3 large)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    frames = generate(
        args.companies,
        args.jobs,
        args.funding,
        args.crm,
        args.as_of,
        args.seed,
        n_opportunities=args.opportunities,
    )
    built = time.perf_counter() - start
    # Big data is for benchmarks, where writing fast matters more than a few megabytes.
    level = args.compression_level or (9 if args.companies <= 1_000_000 else 3)
    paths = write(frames, args.out, compression_level=level)
    for table, path in paths.items():
        size = path.stat().st_size
        print(f"{path}  {frames[table].height:>12,} rows  {size / 1e6:8.2f} MB")
    total = time.perf_counter() - start
    print(
        f"generated in {built:.1f}s, written in {total - built:.1f}s "
        f"(seed {args.seed}, as of {args.as_of})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
