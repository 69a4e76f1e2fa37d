"""Normalisers for domains and company names, each case checked on its own."""

from __future__ import annotations

import string
from importlib import resources

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from publicsuffixlist import PublicSuffixList

from listbuilder.inputs import (
    SHARED_DOMAINS,
    domain_expr,
    normalise_domain,
    normalise_domains,
    registrable_domain_expr,
)
from listbuilder.match import LEGAL_FORMS, core_name_expr, normalise_name, normalise_names


def fullwidth(text: str) -> str:
    """``text`` in full-width forms, as East Asian keyboards type it."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# --- domains ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://www.acme.com/about", "acme.com"),
        ("HTTP://WWW.ACME.COM", "acme.com"),
        ("http://acme.com:8080/en-us/home?utm_source=x#top", "acme.com"),
        ("acme.com.", "acme.com"),
        ("  Acme.Com  ", "acme.com"),
        ("//acme.com/path", "acme.com"),
        ("www2.acme.com", "acme.com"),
        ("shop.acme.com", "acme.com"),
        ("a.b.c.acme.com", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("shop.acme.co.uk", "acme.co.uk"),
        ("shop.acme.com.au", "acme.com.au"),
        ("https://careers.acme.co.jp/", "acme.co.jp"),
        ("sales@acme.com", "acme.com"),
        ("mailto:sales@uk.acme.co.uk", "acme.co.uk"),
        ("acme.io", "acme.io"),
        ("münchen.de", "münchen.de"),
    ],
)
def test_domain_forms_reduce_to_the_registrable_domain(value: str, expected: str) -> None:
    assert normalise_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "gmail.com",
        "jane.doe@gmail.com",
        "https://outlook.com",
        "acme@hotmail.co.uk",
        "https://acme.wixsite.com/home",
        "acme.github.io",
        "acme.myshopify.com",
        "https://www.linkedin.com/company/acme",
        "facebook.com/acme",
        "https://sites.google.com/view/acme",
    ],
)
def test_free_mail_and_hosting_domains_are_never_a_company_domain(value: str) -> None:
    assert normalise_domain(value) is None


def test_a_parent_of_a_hosting_host_is_still_a_company_domain() -> None:
    # sites.google.com hosts anyone's page; google.com is one company's domain.
    assert normalise_domains(["google.com", "www.google.com"]) == ["google.com", "google.com"]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "n/a",
        "-",
        "localhost",
        "Acme Inc",
        "acme",
        "192.168.0.1",
        "co.uk",
        "acme.notatld",
        "http://",
    ],
)
def test_unusable_domains_are_null(value: str | None) -> None:
    assert normalise_domain(value) is None


def test_wildcard_and_exception_rules_follow_the_public_suffix_list() -> None:
    # *.kawasaki.jp makes every label under kawasaki.jp a public suffix, except city.
    assert normalise_domains(["a.b.kawasaki.jp", "city.kawasaki.jp", "x.city.kawasaki.jp"]) == [
        "a.b.kawasaki.jp",
        "city.kawasaki.jp",
        "city.kawasaki.jp",
    ]


def _rules() -> list[str]:
    text = (
        resources.files("publicsuffixlist")
        .joinpath("public_suffix_list.dat")
        .read_text(encoding="utf-8")
    )
    rules = [line.split(" ")[0] for line in text.splitlines() if line and not line.startswith("//")]
    # ASCII rules, plus the wildcards and exceptions that make the algorithm interesting.
    return sorted(r for r in rules if r.isascii())


PSL_RULES = _rules()
REFERENCE = PublicSuffixList()
LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)


def _host(rule: str, labels: list[str]) -> str:
    if rule.startswith("*.") and not labels:
        # The implementations differ on a wildcard's own parent (kobe.jp under *.kobe.jp):
        # the list's format makes it registrable, the reference calls it public.
        labels = ["x"]
    return ".".join([*labels, rule.lstrip("!").removeprefix("*.")])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.builds(_host, st.sampled_from(PSL_RULES), st.lists(LABEL, max_size=3)),
        min_size=1,
        max_size=40,
    )
)
def test_registrable_domain_agrees_with_the_reference_implementation(hosts: list[str]) -> None:
    frame = pl.DataFrame({"host": hosts}, schema={"host": pl.String})
    got = frame.select(registrable_domain_expr("host")).to_series().to_list()
    assert got == [REFERENCE.privatesuffix(host) for host in hosts]


PSL = PublicSuffixList()
HOST = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "co.uk", "com.au", "de", "io", "fr", "co.jp"]),
)


@settings(max_examples=50, deadline=None)
@given(
    HOST,
    st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]),
    st.booleans(),
    st.sampled_from(["", ":443", ":8080"]),
    st.sampled_from(["", "/", "/about", "/a/b?x=1#top", "?utm=1", "#frag"]),
    st.booleans(),
)
def test_url_decoration_never_changes_the_domain(
    host: str, scheme: str, www: bool, port: str, tail: str, upper: bool
) -> None:
    url = f"{scheme}{'www.' if www else ''}{host}{port}{tail}"
    if upper:
        url = url.upper()
    got, bare = normalise_domains([url, host])
    assert got == bare
    # A generated host can be a shared one (fb.com), which is never a company's domain, or
    # a public suffix itself (uk.com is one, in the list's private section), which is none.
    shared = any(host == d or host.endswith("." + d) for d in SHARED_DOMAINS)
    assert (got is None) == (shared or PSL.publicsuffix(host) == host)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40), HOST), max_size=30))
def test_domains_never_raise_and_are_idempotent(values: list[str | None]) -> None:
    once = normalise_domains(values)
    assert len(once) == len(values)
    assert normalise_domains(once) == once


def test_domain_expr_keeps_the_column_name_and_works_lazily() -> None:
    frame = pl.LazyFrame({"website": ["https://www.acme.com/x", None]})
    out = frame.select(domain_expr("website")).collect()
    assert out.columns == ["website"]
    assert out["website"].to_list() == ["acme.com", None]


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("ACME, Inc.", "Acme Incorporated"),
        ("Société Générale S.A.", "Societe Generale"),
        ("The Home Depot", "Home Depot, Inc."),
        ("Home Depot, The", "The Home Depot"),
        ("Acme Holdings Ltd", "Acme Holdings Limited"),
        ("Procter & Gamble Co", "Procter and Gamble Company"),
        (fullwidth("TOYOTA MOTOR"), "Toyota Motor Corporation"),
        ("L'Oréal S.A.", "LOreal SA"),
        ("McDonald's Corporation", "McDonalds Corp"),
        ("Salesforce.com, Inc.", "Salesforce"),
        ("Intl Paper Co.", "International Paper Company"),
        ("Acme Mfg LLC", "ACME MANUFACTURING L.L.C."),
        ("Blåbær Øl ApS", "Blabaer Ol"),
        ("Straße Bau GmbH", "Strasse Bau"),
        ("Foo GmbH & Co. KG", "Foo"),
        ("Bar Sp. z o.o.", "Bar"),
        ("Baz S.A. de C.V.", "Baz"),
        ("PT Bank Central Asia Tbk", "Bank Central Asia"),
        ("Keller & Co", "Keller and Company"),
        ("Volvo Car AB", "Volvo Car Aktiebolag"),
    ],
)
def test_spellings_of_one_name_normalise_alike(left: str, right: str) -> None:
    assert normalise_name(left) == normalise_name(right)


@pytest.mark.parametrize(
    "form",
    [
        "Inc",
        "Inc.",
        "Incorporated",
        "Corp",
        "Corp.",
        "Corporation",
        "Co",
        "Co.",
        "Company",
        "LLC",
        "L.L.C.",
        "Ltd",
        "Ltd.",
        "Limited",
        "PLC",
        "plc",
        "LLP",
        "GmbH",
        "G.m.b.H.",
        "AG",
        "KG",
        "SE",
        "S.A.",
        "SA",
        "S.A.S.",
        "SAS",
        "SARL",
        "S.p.A.",
        "SpA",
        "S.r.l.",
        "SRL",
        "B.V.",
        "BV",
        "N.V.",
        "NV",
        "AB",
        "ASA",
        "A/S",
        "AS",
        "ApS",
        "Oy",
        "Oyj",
        "Pty Ltd",
        "Pty. Ltd.",
        "K.K.",
        "Kabushiki Kaisha",
        "Pte. Ltd.",
        "Pvt. Ltd.",
        "Private Limited",
        "Ltda.",
        "S.L.",
        "Sp. z o.o.",
        "S.A. de C.V.",
        "Public Limited Company",
        "GmbH & Co. KG",
        "Co., Ltd.",
        "Sdn Bhd",
    ],
)
def test_legal_forms_of_the_main_jurisdictions_are_stripped(form: str) -> None:
    assert normalise_name(f"Brightwave {form}") == "brightwave"
    assert normalise_name(f"Brightwave, {form}") == "brightwave"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("The Company Store", "company store"),
        ("Limited Brands", "limited brands"),
        ("Limited Brands, Inc.", "limited brands"),
        ("The Limited", "limited"),
        ("Company", "company"),
        ("Inc.", "inc"),
        ("The", "the"),
        ("Incorporated Television Company", "incorporated television"),
        ("Co-operative Bank plc", "co operative bank"),
    ],
)
def test_a_word_that_is_the_name_itself_is_kept(name: str, expected: str) -> None:
    assert normalise_name(name) == expected


def test_every_legal_form_is_written_as_the_normaliser_leaves_it() -> None:
    # A form with a capital or punctuation left in could never match a folded name.
    for form in LEGAL_FORMS:
        assert form == form.lower()
        assert all(part.isalnum() for part in form.split(" ")), form


def test_empty_names_are_null() -> None:
    assert normalise_names([None, "", "  ", "---", "&"]) == [None, None, None, None, "and"]


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("acme global solutions", "acme"),
        ("global solutions group", None),
        ("brightwave analytics", "brightwave analytics"),
        ("keller and walsh", "keller walsh"),
        ("bank of america", "bank america"),
    ],
)
def test_the_core_of_a_name_drops_its_generic_words(name: str, core: str | None) -> None:
    assert pl.select(core_name_expr(pl.lit(name))).item() == core


NAMES = st.one_of(
    st.text(max_size=40),
    st.builds(
        " ".join,
        st.lists(
            st.sampled_from(
                [
                    "The",
                    "Acme",
                    "&",
                    "Co.",
                    "Inc",
                    "GmbH",
                    "S.A.",
                    "Ltd",
                    "Company",
                    "Global",
                    "Société",
                    fullwidth("ABC"),
                    "and",
                    "Intl",
                    "Pty",
                    "-",
                    ",",
                    "The",
                    "Limited",
                    "PT",
                ]
            ),
            max_size=8,
        ),
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), NAMES), max_size=30))
def test_names_never_raise_and_are_idempotent(values: list[str | None]) -> None:
    once = normalise_names(values)
    assert len(once) == len(values)
    assert normalise_names(once) == once
    for value in once:
        assert value is None or (value == value.strip() and "  " not in value and value)


@pytest.mark.parametrize(
    ("glued", "spaced"),
    [
        ("BechtleAG", "Bechtle AG"),
        ("EvolutionAB", "Evolution AB"),
        ("LYCorporation", "LY Corporation"),
        ("ASMLHolding", "ASML Holding N.V."),
        ("NordsonCorporation", "Nordson Corporation"),
        ("GSKplc", "GSK plc"),
        ("Pearsonplc", "Pearson plc"),
        ("PEARSONPLC", "Pearson plc"),
        ("AcmeGmbH", "Acme GmbH"),
    ],
)
def test_a_legal_form_glued_to_the_name_is_split_off(glued: str, spaced: str) -> None:
    assert normalise_name(glued) == normalise_name(spaced)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PepsiCo", "pepsico"),
        ("CompuGroup Medical", "compugroup medical"),
        ("Zinc", "zinc"),
        ("Kebab", "kebab"),
        ("SunSystems", "sunsystems"),
        ("ConocoPhillips", "conocophillips"),
    ],
)
def test_a_brand_written_in_camel_case_stays_whole(name: str, expected: str) -> None:
    assert normalise_name(name) == expected
