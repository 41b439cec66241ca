"""The fact-check base's records, and reading them from what fact-checkers publish.

A :class:`FactCheck` is one rated claim: the claim's text, the publisher's own rating
(``rating_text``) and that rating folded onto Vigil's scale (``rating``: false, misleading,
mixed, true, unrated). Readers accept schema.org **ClaimReview** JSON-LD (a single object,
a list, a ``@graph``, or ``<script type="application/ld+json">`` blocks in an HTML page),
the Google Fact Check Tools API's JSON (``claims[].claimReview[]``, ``textualRating``...),
JSON Lines of either, and CSV. A malformed record raises :class:`InputError` naming the
line or record and the field at fault.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from vigil.errors import InputError
from vigil.lang import canonical_lang, detect_lang

RATINGS: tuple[str, ...] = ("false", "misleading", "mixed", "true", "unrated")
#: Ratings whose matches produce a ``misinformation`` signal.
ACTIONABLE: frozenset[str] = frozenset({"false", "misleading"})


@dataclass(frozen=True, slots=True)
class FactCheck:
    """One fact-checked claim. ``claim_id`` is the id given at import, else the review URL."""

    claim_id: str
    text: str
    rating: str
    rating_text: str = ""
    publisher: str = ""
    url: str = ""
    title: str = ""
    reviewed: date | None = None
    lang: str = "en"
    source: str = ""

    @property
    def content_hash(self) -> str:
        blob = json.dumps(
            [self.text, self.rating, self.rating_text, self.publisher, self.url, self.title,
             self.reviewed.isoformat() if self.reviewed else None, self.lang],
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def text_hash(self) -> str:
        """What the claim's embedding is computed from (its text and title)."""
        blob = f"{self.text}\x00{self.title}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(blob).hexdigest()

    @property
    def actionable(self) -> bool:
        return self.rating in ACTIONABLE


# -- ratings -----------------------------------------------------------------------------

# Checked in order; the first pattern found in the lower-cased rating wins, so the
# qualified forms ("mostly false", "half true", "partly false") come before the bare ones.
_RATING_RULES: tuple[tuple[str, str], ...] = (
    (r"unprov|unverif|unsubstant|no evidence|not enough|research in progress|undetermin|"
     r"unclear|satire|unrated|explainer|opinion|待证实|未证实|无法证实|存疑", "unrated"),
    (r"mostly false|mostly fake|largely false|partly false|partially false|half[- ]?false|"
     r"misleading|miscaption|mislabel|missing context|out of context|lacks context|"
     r"needs context|distort|exaggerat|manipulat|altered|spin|cherry|"
     r"误导|断章取义|夸大|移花接木|旧闻新炒|部分错误|部分不实|基本不实|片面|缺乏背景",
     "misleading"),
    (r"half[- ]?true|mixture|mixed|partly true|partially true|partly correct|"
     r"true but|correct but|some truth|真假参半|部分正确|部分属实|半真半假", "mixed"),
    (r"mostly true|largely true|mostly correct|largely accurate|mostly accurate|"
     r"基本属实|大致属实|基本正确", "true"),
    (r"pants on fire|\bfalse\b|\bfake\b|\bhoax|\bincorrect|\bwrong\b|\buntrue|not true|"
     r"fabricat|\bscam\b|debunk|four pinocchios|\bbogus|inaccurate|baseless|\brumou?r|"
     r"not (?:correct|accurate|real)|"
     r"错误|虚假|谣言|不实|假的|假新闻|伪造|不属实|造谣|捏造|失实|不正确|不准确|不真实", "false"),
    (r"\btrue\b|\bcorrect\b|\baccurate\b|\bverified\b|\bconfirmed\b|\bfactual\b|"
     r"真实|属实|正确|确有其事|准确", "true"),
)
_RATING_RES = tuple((re.compile(p), r) for p, r in _RATING_RULES)


def normalise_rating(text: str | None, value: float | None = None, best: float | None = None,
                     worst: float | None = None) -> str:
    """A publisher's rating folded onto false / misleading / mixed / true / unrated.

    The textual rating decides when it is recognised; otherwise a numeric
    ``ratingValue`` on its ``worstRating``..``bestRating`` scale does (bottom fifth false,
    next fifth misleading, middle mixed, top two fifths true)."""
    t = (text or "").strip().lower()
    if t in RATINGS:
        return t
    for rx, rating in _RATING_RES:
        if rx.search(t):
            return rating
    if value is not None and best is not None and worst is not None and best != worst:
        pos = (value - worst) / (best - worst)
        if not 0.0 <= pos <= 1.0:
            return "unrated"
        return ("false" if pos < 0.2 else "misleading" if pos < 0.4 else
                "mixed" if pos < 0.6 else "true")
    return "unrated"


# -- readers -----------------------------------------------------------------------------


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, Mapping):
        return _text(v.get("name") or v.get("@value") or v.get("url"))
    if isinstance(v, list) and v:
        return _text(v[0])
    return ""


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _date(v: Any, field: str) -> date | None:
    s = _text(v)
    if not s:
        return None
    try:
        if len(s) == 10:
            return date.fromisoformat(s)
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        return (dt.astimezone(UTC) if dt.tzinfo else dt).date()
    except ValueError:
        raise InputError(f"not an ISO date: {s!r}", where=field) from None


def _lang(given: Any, text: str) -> str:
    return canonical_lang(_text(given)) or detect_lang(text)


def _types(obj: Mapping[str, Any]) -> set[str]:
    t = obj.get("@type", ())
    return {t} if isinstance(t, str) else {str(x) for x in t} if isinstance(t, list) else set()


def from_claimreview(obj: Mapping[str, Any], source: str = "") -> FactCheck:
    """A schema.org ClaimReview object (JSON-LD) as a :class:`FactCheck`."""
    claim = _text(obj.get("claimReviewed"))
    item = obj.get("itemReviewed")
    if not claim and isinstance(item, Mapping):
        claim = _text(item.get("text") or item.get("name"))
    if not claim:
        raise InputError("ClaimReview has no claimReviewed text", where="claimReviewed")
    rr = obj.get("reviewRating")
    rr = rr if isinstance(rr, Mapping) else {}
    rating_text = _text(rr.get("alternateName") or rr.get("name") or rr.get("ratingExplanation"))
    rating = normalise_rating(rating_text, _num(rr.get("ratingValue")),
                              _num(rr.get("bestRating")), _num(rr.get("worstRating")))
    url = _text(obj.get("url") or obj.get("@id"))
    cid = _text(obj.get("identifier")) or url
    if not cid:
        raise InputError("ClaimReview has neither url, @id nor identifier", where="url")
    return FactCheck(
        claim_id=cid, text=claim, rating=rating, rating_text=rating_text,
        publisher=_text(obj.get("author") or obj.get("publisher")), url=url,
        title=_text(obj.get("name") or obj.get("headline")),
        reviewed=_date(obj.get("datePublished") or obj.get("dateCreated"), "datePublished"),
        lang=_lang(obj.get("inLanguage"), claim), source=source,
    )


def from_factcheck_tools(claim: Mapping[str, Any], source: str = "") -> Iterator[FactCheck]:
    """One Google Fact Check Tools ``claims[]`` entry: a FactCheck per ``claimReview``."""
    text = _text(claim.get("text"))
    if not text:
        raise InputError("claim has no text", where="text")
    reviews = claim.get("claimReview")
    if not isinstance(reviews, list) or not reviews:
        raise InputError("claim has no claimReview list", where="claimReview")
    for i, r in enumerate(reviews):
        if not isinstance(r, Mapping):
            raise InputError("not an object", where=f"claimReview[{i}]")
        url = _text(r.get("url"))
        if not url:
            raise InputError("review has no url", where=f"claimReview[{i}].url")
        rating_text = _text(r.get("textualRating"))
        yield FactCheck(
            claim_id=url, text=text, rating=normalise_rating(rating_text),
            rating_text=rating_text, publisher=_text(r.get("publisher")), url=url,
            title=_text(r.get("title")),
            reviewed=_date(r.get("reviewDate") or claim.get("claimDate"),
                           f"claimReview[{i}].reviewDate"),
            lang=_lang(r.get("languageCode"), text), source=source,
        )


def _within(exc: InputError, prefix: str = "", *, sep: str = ".", line: int | None = None
            ) -> InputError:
    """``exc`` located inside the record ``prefix`` and/or at ``line``."""
    where = sep.join(p for p in (prefix, exc.where) if p)
    return InputError(exc.reason, where=where, line=exc.line if line is None else line)


def _parse_walk(blob: str, source: str, *, what: str = "JSON", where: str = "",
                line: int | None = None) -> Iterator[FactCheck]:
    """The fact checks in one JSON document, errors located at ``where`` / ``line``."""
    try:
        doc = json.loads(blob)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid {what}: {exc.msg}", where=where, line=line) from None
    try:
        yield from _walk(doc, source)
    except InputError as exc:
        raise _within(exc, where, sep=" ", line=line) from None


def _walk(doc: Any, source: str) -> Iterator[FactCheck]:
    """Every fact check in a parsed JSON document, whatever its shape."""
    if isinstance(doc, list):
        for i, sub in enumerate(doc):
            try:
                yield from _walk(sub, source)
            except InputError as exc:
                raise _within(exc, f"[{i}]") from None
        return
    if not isinstance(doc, Mapping):
        raise InputError(f"expected an object or a list, got {type(doc).__name__}")
    if "@graph" in doc:
        graph = doc["@graph"]
        yield from _walk(graph if isinstance(graph, list) else [graph], source)
    elif "ClaimReview" in _types(doc) or "claimReviewed" in doc:
        yield from_claimreview(doc, source)
    elif isinstance(doc.get("claims"), list):
        for i, c in enumerate(doc["claims"]):
            try:
                if not isinstance(c, Mapping):
                    raise InputError("not an object")
                yield from from_factcheck_tools(c, source)
            except InputError as exc:
                raise _within(exc, f"claims[{i}]") from None
    elif "claimReview" in doc:
        yield from from_factcheck_tools(doc, source)
    # other JSON-LD nodes (WebPage, Organization...) carry no claim: skipped


_LD_JSON = re.compile(
    r"<script[^>]*type\s*=\s*[\"']application/ld\+json[\"'][^>]*>(.*?)</script>",
    re.IGNORECASE | re.DOTALL,
)

_CSV_FIELDS = {
    "claim_id": ("claim_id", "id", "identifier"),
    "text": ("text", "claim", "claim_text", "claimreviewed"),
    "rating": ("rating", "textualrating", "textual_rating", "verdict"),
    "publisher": ("publisher", "author", "source_name"),
    "url": ("url", "review_url", "claimreview_url"),
    "title": ("title", "headline"),
    "date": ("date", "review_date", "reviewdate", "datepublished"),
    "lang": ("lang", "language", "languagecode", "inlanguage"),
}


def _csv(fh: Iterable[str], source: str) -> Iterator[FactCheck]:
    reader = csv.DictReader(fh)
    cols = {c.strip().lower(): c for c in reader.fieldnames or []}
    pick = {f: next((cols[a] for a in names if a in cols), None)
            for f, names in _CSV_FIELDS.items()}
    if pick["text"] is None:
        raise InputError("CSV needs a claim text column (text, claim or claimReviewed)",
                         line=1)
    if pick["claim_id"] is None and pick["url"] is None:
        raise InputError("CSV needs an id or a url column", line=1)
    for row in reader:
        line = reader.line_num

        def get(f: str, row: dict[str, Any] = row) -> str:
            col = pick[f]
            return (row.get(col) or "").strip() if col else ""

        text, url = get("text"), get("url")
        cid = get("claim_id") or url
        if not text:
            raise InputError("empty claim text", where=pick["text"] or "text", line=line)
        if not cid:
            raise InputError("row has neither an id nor a url", where="id", line=line)
        try:
            reviewed = _date(get("date"), pick["date"] or "date")
        except InputError as exc:
            raise _within(exc, line=line) from None
        yield FactCheck(
            claim_id=cid, text=text, rating=normalise_rating(get("rating")),
            rating_text=get("rating"), publisher=get("publisher"), url=url,
            title=get("title"), reviewed=reviewed, lang=_lang(get("lang"), text),
            source=source,
        )


def read_factchecks(path: str | Path, fmt: str | None = None) -> Iterator[FactCheck]:
    """Fact checks from a file: ``.json`` / ``.jsonld`` (any JSON shape above), ``.jsonl``
    (one JSON document per line), ``.csv``, or ``.html`` (its JSON-LD blocks)."""
    p = Path(path)
    source = p.name
    kind = (fmt or p.suffix.lstrip(".")).lower()
    if not p.is_file():
        raise InputError(f"no such file: {p}")
    if kind == "csv":
        with p.open(newline="", encoding="utf-8-sig") as fh:
            yield from _csv(fh, source)
        return
    raw = p.read_text(encoding="utf-8-sig")
    if kind in ("html", "htm"):
        docs = [(f"script {i + 1}", m.group(1)) for i, m in enumerate(_LD_JSON.finditer(raw))]
        if not docs:
            raise InputError("no <script type=\"application/ld+json\"> block in the page")
        for where, blob in docs:
            yield from _parse_walk(blob, source, what="JSON-LD", where=where)
        return
    if kind == "jsonl":
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                yield from _parse_walk(line, source, line=n)
        return
    if kind not in ("json", "jsonld"):
        raise InputError(f"unknown format {kind!r}: use json, jsonld, jsonl, csv or html")
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    yield from _walk(doc, source)


__all__ = ["ACTIONABLE", "RATINGS", "FactCheck", "from_claimreview", "from_factcheck_tools",
           "normalise_rating", "read_factchecks"]
