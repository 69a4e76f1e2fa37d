"""Domains as polars expressions: a URL or host to its registrable domain.

The company data and the CRM both go through ``domain_expr``, so
``https://www.acme.com/about`` and ``acme.com`` meet as ``acme.com``. The Public Suffix
List shipped inside the ``publicsuffixlist`` package is read once into sets that polars
looks each host's suffixes up in, so a run never calls Python per row and never fetches
anything from the network.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from importlib import resources

import polars as pl


def _words(text: str) -> list[str]:
    """The words of a block of text, for long vocabularies written compactly."""
    return text.split()


# Free-mail, hosting, site-builder and social domains. Many organisations share each of
# them, so none is ever a company's own domain: ``sales@gmail.com``, ``acme.wixsite.com``
# and ``linkedin.com/company/acme`` say nothing about which company a record is. A host
# is blocked when it or any parent domain is listed (``sites.google.com`` blocks
# ``sites.google.com/view/acme`` but not ``google.com``).
SHARED_DOMAINS: frozenset[str] = frozenset(
    _words(
        """
gmail.com googlemail.com outlook.com outlook.fr hotmail.com hotmail.co.uk hotmail.fr
hotmail.de hotmail.it hotmail.es live.com live.co.uk live.fr msn.com windowslive.com
yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es yahoo.it yahoo.co.jp yahoo.com.br
yahoo.co.in ymail.com rocketmail.com aol.com aim.com icloud.com me.com mac.com proton.me
protonmail.com protonmail.ch pm.me gmx.com gmx.de gmx.net gmx.at gmx.ch web.de
t-online.de freenet.de mail.com email.com zohomail.com yandex.com yandex.ru mail.ru
bk.ru inbox.ru list.ru rambler.ru qq.com 163.com 126.com yeah.net sina.com sohu.com
naver.com daum.net hanmail.net fastmail.com fastmail.fm hey.com tutanota.com tuta.io
comcast.net verizon.net att.net sbcglobal.net bellsouth.net cox.net charter.net
earthlink.net optonline.net orange.fr wanadoo.fr free.fr sfr.fr laposte.net libero.it
virgilio.it alice.it tiscali.it btinternet.com sky.com virginmedia.com ntlworld.com
talktalk.net bigpond.com optusnet.com.au shaw.ca rogers.com sympatico.ca rediffmail.com
seznam.cz wp.pl o2.pl onet.pl interia.pl terra.com.br uol.com.br bol.com.br wixsite.com
wix.site editorx.io squarespace.site weebly.com weeblysite.com wordpress.com
blogspot.com blogger.com godaddysites.com webflow.io carrd.co sites.google.com
business.site github.io gitlab.io herokuapp.com netlify.app vercel.app pages.dev web.app
firebaseapp.com myshopify.com square.site strikingly.com mystrikingly.com jimdosite.com
jimdofree.com site123.me webnode.com webnode.page tumblr.com medium.com substack.com
notion.site framer.website framer.app azurewebsites.net cloudfront.net amazonaws.com
squarespace.com
linkedin.com facebook.com fb.com instagram.com twitter.com x.com youtube.com tiktok.com
pinterest.com xing.com crunchbase.com glassdoor.com indeed.com yelp.com angel.co
wellfound.com bit.ly linktr.ee t.co goo.gl
"""
    )
)


# Legal forms as they read after folding ("S.A." -> "sa", "L.L.C." -> "llc",
# "A/S" -> "as", "Pty. Ltd." -> "pty ltd", "Sp. z o.o." -> "sp z oo"). They are stripped
# from the end of a name, several in a row ("GmbH & Co. KG"), but never when nothing
# would be left: "Limited Brands" and "The Company Store" keep their words.
def _col(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


# --- domains -------------------------------------------------------------------------


@functools.cache
def _suffix_rules() -> tuple[pl.Series, pl.Series, pl.Series, pl.Series, int]:
    """The Public Suffix List as four sets: rules, wildcard parents, exceptions, TLDs.

    ``*.ck`` becomes the wildcard parent ``ck`` and ``!www.ck`` the exception ``www.ck``.
    Internationalised rules are kept in Unicode and in their ASCII (punycode) form, as
    hosts come written either way. Also returns one more than the most labels in a rule:
    the deepest suffix a registrable domain can need.
    """
    text = (
        resources.files("publicsuffixlist")
        .joinpath("public_suffix_list.dat")
        .read_text(encoding="utf-8")
    )
    exact: set[str] = set()
    wild: set[str] = set()
    exceptions: set[str] = set()
    for raw in text.splitlines():
        rule = raw.strip().split(" ")[0].lower()
        if not rule or rule.startswith("//"):
            continue
        forms = [rule]
        if not rule.isascii():
            with contextlib.suppress(UnicodeError):
                forms.append(rule.encode("idna").decode("ascii"))
        for form in forms:
            if form.startswith("!"):
                exceptions.add(form[1:])
            elif form.startswith("*."):
                wild.add(form[2:])
            else:
                exact.add(form)
    tlds = {r.rsplit(".", 1)[-1] for r in exact | wild | exceptions}
    # A wildcard rule has one label more than its parent.
    labels = [r.count(".") + 1 for r in exact | exceptions] + [r.count(".") + 2 for r in wild]
    depth = max(labels) + 1

    def as_set(values: set[str]) -> pl.Series:
        return pl.Series(sorted(values), dtype=pl.String).implode()

    return as_set(exact), as_set(wild), as_set(exceptions), as_set(tlds), depth


def _tail(host: pl.Expr, k: int) -> pl.Expr:
    """The last ``k`` labels of a host (``acme.co.uk``, 2 -> ``co.uk``); null if fewer."""
    return host.str.extract(rf"((?:[^.]+\.){{{k - 1}}}[^.]+)$")


def host_expr(column: str | pl.Expr) -> pl.Expr:
    """A URL, e-mail address or domain reduced to its lower-case host name.

    Removes the scheme, user or mailbox, ``www.``, port, path, query string, fragment and
    trailing dots. Null when what is left is not a host name (``n/a``, ``localhost``,
    ``Acme Inc``).
    """
    host = (
        _col(column)
        .cast(pl.String)
        .str.to_lowercase()
        .str.extract(r"^\s*(?:[a-z][a-z0-9+.-]*://|mailto:|//)?(?:[^@/?#\\\s]*@)?([^/?#\\:@\s]*)")
        .str.strip_chars(".")
        .str.replace(r"^www\d*\.(.+\..+)$", "${1}")
    )
    valid = host.str.contains(r"^[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+$")
    return pl.when(valid).then(host)


def _registrable(host: pl.Expr, tails: list[pl.Expr]) -> pl.Expr:
    """The registrable domain of ``host``, given its last 1, 2, ... labels in ``tails``.

    The Public Suffix List algorithm: the public suffix is the longest matching rule (a
    listed suffix, or any label under a wildcard rule), an exception rule makes it one
    label shorter, and the registrable domain is the public suffix plus one label.
    """
    exact, wild, exceptions, tlds, depth = _suffix_rules()
    hits = []
    for k in range(2, depth):
        hit = tails[k - 1].is_in(exact) | (tails[k - 2].is_in(wild) & tails[k - 1].is_not_null())
        hits.append(pl.when(hit).then(pl.lit(k)))
    suffix_len = pl.max_horizontal(pl.lit(1), *hits)
    for k in range(2, depth):
        suffix_len = pl.when(tails[k - 1].is_in(exceptions)).then(k - 1).otherwise(suffix_len)
    chain = pl.when(suffix_len == 1).then(tails[1])
    for k in range(2, depth):
        chain = chain.when(suffix_len == k).then(tails[k])
    return pl.when(tails[0].is_in(tlds)).then(chain)


def _shared(tails: list[pl.Expr]) -> pl.Expr:
    shared = pl.Series(sorted(SHARED_DOMAINS), dtype=pl.String).implode()
    depth = max(d.count(".") + 1 for d in SHARED_DOMAINS)
    return pl.any_horizontal([t.is_in(shared).fill_null(False) for t in tails[1:depth]])


def _domains(values: pl.Series, *, registrable_only: bool = False) -> pl.Series:
    """Company domains for a batch of values; each host's suffixes are computed once."""
    _, _, _, _, depth = _suffix_rules()
    names = [f"t{k}" for k in range(1, depth + 1)]
    hosts = pl.LazyFrame({"v": values}, schema={"v": pl.String}).select(
        h=host_expr("v") if not registrable_only else pl.col("v")
    )
    tails = [pl.col(n) for n in names]
    result = _registrable(pl.col("h"), tails)
    if not registrable_only:
        result = pl.when(~_shared(tails)).then(result)
    return (
        hosts.with_columns(_tail(pl.col("h"), k).alias(n) for k, n in enumerate(names, 1))
        .select(result.alias(values.name))
        .collect()
        .to_series()
    )


def registrable_domain_expr(host: str | pl.Expr) -> pl.Expr:
    """The registrable domain of a host name (``shop.acme.com.au`` -> ``acme.com.au``).

    Both the ICANN and the private sections of the Public Suffix List count, so
    ``acme.wixsite.com`` is its own registrable domain. Null for a host that is itself a
    public suffix (``co.uk``) or whose last label is no top-level domain.
    """
    return _col(host).map_batches(
        functools.partial(_domains, registrable_only=True),
        return_dtype=pl.String,
        is_elementwise=True,
    )


def domain_expr(column: str | pl.Expr) -> pl.Expr:
    """A company's domain: the registrable domain of a URL, e-mail address or host.

    ``https://www.Acme.com:443/about?x=1`` and ``sales@shop.acme.com`` both give
    ``acme.com``; ``shop.acme.co.uk`` gives ``acme.co.uk``. Null when the value holds no
    usable domain, or when the domain is a free-mail, hosting or social one
    (``gmail.com``, ``acme.wixsite.com``, ``linkedin.com/company/acme``): those never
    identify a company.
    """
    return _col(column).map_batches(_domains, return_dtype=pl.String, is_elementwise=True)


def is_own_domain_expr(column: str | pl.Expr) -> pl.Expr:
    """True where a value certainly is already its own company domain (``domain_expr``
    would return it unchanged): a lower-case ASCII name of two or three labels that is
    one label under a public suffix (``acme.com``, ``acme.co.uk``), not itself a suffix,
    and no shared domain.

    A handful of set lookups, against ``domain_expr``'s dozens of per-label steps: most
    domains in a clean file are like this, so only the rest need the full parse. False
    means "not sure", never "not a domain"; null for null.
    """
    exact, wild, exceptions, tlds, _depth = _suffix_rules()
    shared = pl.Series(sorted(SHARED_DOMAINS), dtype=pl.String).implode()
    value = _col(column)
    parts = value.str.extract_groups(
        r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)?([a-z]{2,63}))$"
    )
    # The suffix below the first label, and the top-level domain (the same for two labels).
    rest, tld = parts.struct.field("1"), parts.struct.field("2")
    return (
        tld.is_in(tlds).fill_null(False)
        & ((rest == tld) | rest.is_in(exact))
        & ~rest.is_in(wild)
        & ~rest.is_in(exceptions)
        & ~value.is_in(exact)
        & ~value.is_in(shared)
        & ~rest.is_in(shared)
    )


def domain_label_expr(domain: str | pl.Expr) -> pl.Expr:
    """The label a registrable domain adds to its public suffix (``acme.co.uk`` -> ``acme``)."""
    return _col(domain).str.extract(r"^([^.]+)")


# --- plain functions -------------------------------------------------------------------


def _apply(expr: pl.Expr, values: Sequence[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"v": list(values)}, schema={"v": pl.String})
    return frame.lazy().select(expr).collect().to_series().to_list()


def normalise_domains(values: Sequence[str | None]) -> list[str | None]:
    """``domain_expr`` for a list of values: each one's registrable domain, or None."""
    return _apply(domain_expr("v"), values)


def normalise_domain(value: str | None) -> str | None:
    """One value's registrable domain (see ``domain_expr``), or None."""
    return normalise_domains([value])[0]
