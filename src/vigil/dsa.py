"""Statements of reasons for the EU DSA Transparency Database.

Every recorded decision that restricts something (an item labelled, restricted or removed;
an account restricted, suspended or shut down) becomes one statement of reasons in the
database's submission schema, checked against ``data/schemas/dsa_sor.schema.json``. The
mapping from Vigil's categories, actions and decision paths to the database's values is
the one table below. Decisions that restrict nothing are left out: ``review`` (sent to a
reviewer, no action yet), ``allow``, ``warn`` (a notice, no restriction), and the
reversals of earlier decisions (``reinstate``, ``lift``, ``uphold``, ``expire``): the
database holds statements of restrictions, not of their reversal.

A statement carries no personal data: no account or reviewer names, no item text, no
shared artefact (phone number, handle...), no reviewer's own words. Its facts are built
from the policy, the rule, the scores and the detector names; a reviewer's reason appears
only where it is one of the reason templates (``vigil.review.TEMPLATES``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import yaml
from sqlalchemy import select

from vigil.errors import InputError
from vigil.lang import detect_lang
from vigil.review import TEMPLATES
from vigil.store import Store
from vigil.store.auditlog import utc
from vigil.store.tables import policies
from vigil.transparency import Origin, Scanned, scan

# -- the mapping: Vigil → DSA Transparency Database ---------------------------------------

#: Vigil category → (statement category, category specification keywords, whether the
#: content is also illegal: ``incompatible_content_illegal``). A category the table does
#: not name (an operator's own) is exported as STATEMENT_CATEGORY_OTHER_VIOLATION_TC with
#: KEYWORD_OTHER and the category's name.
CATEGORY_MAP: dict[str, tuple[str, tuple[str, ...], str]] = {
    "spam": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", (), "No"),
    "sexual": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ("KEYWORD_ADULT_SEXUAL_MATERIAL",),
               "No"),
    "harassment": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", ("KEYWORD_CYBER_HARASSMENT",), "No"),
    "hate": ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ("KEYWORD_HATE_SPEECH",), "No"),
    "violence": ("STATEMENT_CATEGORY_VIOLENCE", ("KEYWORD_INCITEMENT_VIOLENCE_HATRED",), "No"),
    "misinformation": ("STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
                       ("KEYWORD_MISINFORMATION",), "No"),
    "plagiarism": ("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
                   ("KEYWORD_COPYRIGHT_INFRINGEMENT",), "No"),
    "child_safety": ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", (), "Yes"),
}
OTHER_CATEGORY = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"

#: (decision kind, Vigil action) → (the restriction field, its value, its end-date field).
#: Every other action restricts nothing and gets no statement.
ACTION_MAP: dict[tuple[str, str], tuple[str, str, str]] = {
    ("item", "label"): ("decision_visibility", "DECISION_VISIBILITY_CONTENT_LABELLED",
                        "end_date_visibility_restriction"),
    ("item", "restrict"): ("decision_visibility", "DECISION_VISIBILITY_CONTENT_DEMOTED",
                           "end_date_visibility_restriction"),
    ("item", "remove"): ("decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED",
                         "end_date_visibility_restriction"),
    ("account", "restrict"): ("decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION",
                              "end_date_service_restriction"),
    ("account", "suspend"): ("decision_account", "DECISION_ACCOUNT_SUSPENDED",
                             "end_date_account_restriction"),
    ("account", "shut_down"): ("decision_account", "DECISION_ACCOUNT_TERMINATED",
                               "end_date_account_restriction"),
}

#: Where the case came from (see :class:`Origin`) → ``source_type``.
SOURCE_MAP = {"own_initiative": "SOURCE_VOLUNTARY", "user_report": "SOURCE_ARTICLE_16",
              "trusted_flagger": "SOURCE_TRUSTED_NOTIFIER"}
#: How the violation was found → ``automated_detection``.
DETECTION_MAP = {"automated": "Yes", "human": "No"}
#: Who decided → ``automated_decision``.
DECIDED_MAP = {"automated": "AUTOMATED_DECISION_FULLY", "partly": "AUTOMATED_DECISION_PARTIALLY",
               "human": "AUTOMATED_DECISION_NOT_AUTOMATED"}
#: Media reference suffix → content type (any other medium is an image).
MEDIA_TYPES = {s: "CONTENT_TYPE_VIDEO" for s in (".mp4", ".m4v", ".mov", ".webm", ".mkv",
                                                  ".avi")} | {
    s: "CONTENT_TYPE_AUDIO" for s in (".mp3", ".m4a", ".wav", ".ogg", ".oga", ".flac",
                                      ".aac", ".opus")}

#: The European Economic Area (``territorial_scope``'s default).
EEA = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
       "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
       "IS", "LI", "NO")
ACCOUNT_TYPES = {"business": "ACCOUNT_TYPE_BUSINESS", "private": "ACCOUNT_TYPE_PRIVATE"}
MAX_BATCH = 100
EARLIEST = date(2000, 1, 1)
_VERB = {"label": "labelled", "restrict": "restricted (demoted)", "remove": "removed",
         "suspend": "suspended", "shut_down": "shut down"}


@dataclass(frozen=True, slots=True)
class SorSettings:
    """What the store does not know. ``territorial_scope``: EEA country codes where the
    decisions apply (default all); ``terms_url``: the published terms
    (``decision_ground_reference_url``); ``account_type``: ``business`` or ``private`` for
    every account, when the platform's accounts are all one kind; ``legal_grounds``: Vigil
    category → the law it breaks, for categories the operator reports as illegal content
    (DECISION_GROUND_ILLEGAL_CONTENT) instead of a breach of the terms."""

    territorial_scope: tuple[str, ...] = EEA
    terms_url: str | None = None
    account_type: str | None = None
    legal_grounds: Mapping[str, str] = field(default_factory=dict)
    puid_prefix: str = "vigil-"


@dataclass(frozen=True, slots=True)
class DsaStatement:
    """One statement of reasons (``body``, as submitted) for the decision ``decision_id``
    on ``platform`` (the platform's own API token submits it)."""

    platform: str
    decision_id: str
    body: dict[str, Any]


@dataclass(slots=True)
class SorExport:
    """What :func:`export_sor` wrote: statements, files, statements per platform, and the
    decisions left out (they restrict nothing) by action."""

    statements: int = 0
    files: list[Path] = field(default_factory=list)
    by_platform: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def _policy_texts(store: Store) -> dict[str, tuple[str, dict[str, str]]]:
    """Each recorded policy version → (name, {category: description})."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    with store.read() as conn:
        for version, name, body in conn.execute(
                select(policies.c.version, policies.c.name, policies.c.body)):
            try:
                cats = (yaml.safe_load(body) or {}).get("categories") or {}
                out[version] = (name, {k: str((v or {}).get("description", "")).strip()
                                       for k, v in cats.items()})
            except (yaml.YAMLError, AttributeError):
                out[version] = (name, {})
    return out


# -- one statement ---------------------------------------------------------------------------


def statement(s: Scanned, settings: SorSettings,
              policy_texts: Mapping[str, tuple[str, dict[str, str]]] | None = None
              ) -> dict[str, Any] | None:
    """The statement of reasons for one decision, or None where it restricts nothing."""
    r = s.row
    restriction = ACTION_MAP.get((r["kind"], r["action"]))
    if restriction is None:
        return None
    fld, value, end_field = restriction
    cat = r["category"] or "unspecified"
    pol_name, descriptions = (policy_texts or {}).get(r["policy_version"],
                                                      ("Vigil", {}))
    desc = descriptions.get(cat) or f"content in the {cat} category"
    body: dict[str, Any] = {fld: [value] if fld == "decision_visibility" else value}
    expires = r["reasons"].get("expires_at")
    if expires:
        body[end_field] = _day(datetime.fromisoformat(expires))
    if settings.account_type:
        body["account_type"] = ACCOUNT_TYPES[settings.account_type]
    terms = f"{pol_name} policy (version {r['policy_version']}), category {cat}: {desc}"
    why = f"{desc.rstrip('.')}. Rule {r['rule']} of the {pol_name} policy applies."
    if cat in settings.legal_grounds:
        body["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        body["illegal_content_legal_ground"] = _clip(settings.legal_grounds[cat], 500)
        body["illegal_content_explanation"] = _clip(why, 2000)
    else:
        body["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        body["incompatible_content_ground"] = _clip(terms, 500)
        body["incompatible_content_explanation"] = _clip(why, 2000)
    if settings.terms_url:
        body["decision_ground_reference_url"] = settings.terms_url
    category, keywords, illegal = CATEGORY_MAP.get(cat, (OTHER_CATEGORY, ("KEYWORD_OTHER",),
                                                         "No"))
    if body["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        body["incompatible_content_illegal"] = illegal
    body["category"] = category
    if keywords:
        body["category_specification"] = list(keywords)
        if "KEYWORD_OTHER" in keywords:
            body["category_specification_other"] = _clip(cat, 500)
    body.update(_content(s.item, r["at"], r["kind"]))
    body["decision_facts"] = _clip(facts(r, s.origin, pol_name), 5000)
    body["source_type"] = SOURCE_MAP[s.origin.source]
    body["automated_detection"] = DETECTION_MAP[s.origin.detection]
    body["automated_decision"] = DECIDED_MAP[s.origin.decided]
    body["territorial_scope"] = list(settings.territorial_scope)
    body["puid"] = f"{settings.puid_prefix}{r['id']}"
    return body


def _content(item: Mapping[str, Any] | None, at: datetime, kind: str) -> dict[str, Any]:
    applied = _day(at)
    if item is None and kind == "item":  # audited in a sweep, not stored: items are text
        return {"content_type": ["CONTENT_TYPE_TEXT"], "content_date": applied,
                "application_date": applied}
    if item is None:  # an account decision about no one item (coordinated posting)
        return {"content_type": ["CONTENT_TYPE_OTHER"],
                "content_type_other": "the account's activity across several items",
                "content_date": applied, "application_date": applied}
    types = ["CONTENT_TYPE_TEXT"] if item["text"].strip() else []
    for ref in json.loads(item["media"] or "[]"):
        t = MEDIA_TYPES.get(Path(str(ref).split("?", 1)[0]).suffix.lower(),
                            "CONTENT_TYPE_IMAGE")
        if t not in types:
            types.append(t)
    created = utc(item["created_at"])
    posted = min(max(created.date(), EARLIEST), at.date()) if created else at.date()
    out: dict[str, Any] = {"content_type": types or ["CONTENT_TYPE_OTHER"],
                           "content_date": posted.isoformat(), "application_date": applied}
    if not types:
        out["content_type_other"] = "an item without text or media"
    lang = _language(item["lang"], item["text"])
    if lang:
        out["content_language"] = lang
    return out


def _language(given: str | None, text: str) -> str | None:
    """ISO 639-1, upper case, when known: the item's own tag, else en/zh by script."""
    if given:
        base = given.strip().replace("_", "-").split("-")[0]
        return base.upper() if len(base) == 2 and base.isascii() and base.isalpha() else None
    found = detect_lang(text)
    return found.upper() if found in ("en", "zh") else None


def facts(r: Mapping[str, Any], origin: Origin, policy_name: str = "Vigil") -> str:
    """The decision's facts without personal data: rule, policy, scores and detectors, or
    the reviewer's reason template; never names, item text, artefacts or free text."""
    rs: Mapping[str, Any] = r["reasons"]
    cat, action, rule = r["category"], r["action"], r["rule"]
    pol = f"the {policy_name} policy (version {r['policy_version']})"
    verb = "restricted" if (r["kind"], action) == ("account", "restrict") \
        else _VERB.get(action, action)
    if r["kind"] == "item" and r["automated"]:
        found = [f for f in rs.get("findings", []) if f.get("category") == cat]
        finding = next((f for f in found if f.get("action") == action),
                       found[0] if found else {})
        dets = ", ".join(finding.get("detectors", [])) or "Vigil's detectors"
        how = (f"it scored {float(finding['score']):.2f} for {cat}" if "score" in finding
               else f"it was found to be {cat}")
        return (f"The item was {verb} automatically: {how} ({dets}), at or above the "
                f"threshold of rule {rule} of {pol}.")
    if r["kind"] == "item":
        how = {"trusted_flagger": "after a trusted flagger's report",
               "user_report": "after a user's report"}.get(
            origin.source, "after Vigil's detectors flagged it for review")
        text = f"A reviewer {verb} the item for {cat} {how}, under rule {rule} of {pol}."
        template = _template(cat, rs.get("facts", ""))
        return f"{text} Reason: {template}" if template else text
    days = rs.get("days")
    span = f" for {float(days):g} days" if days else ""
    if str(rule).startswith("coordination."):
        cl = rs.get("cluster") or {}
        what = ("near-identical text" if cl.get("kind") == "text"
                else f"the same {cl.get('kind', 'artefact')}")
        return (f"The account was {verb}{span}: it was one of {cl.get('accounts', 'several')} "
                f"accounts that posted {what} within a short window (coordinated {cat}), "
                f"under rule {rule} of {pol}.")
    if str(rule).startswith("ladder."):
        step = str(rule).split(".")[1]
        after = ("a reviewer removed one of its items" if origin.decided == "partly"
                 else "one of its items was removed")
        return (f"The account was {verb}{span}: its decayed strike total "
                f"{float(rs.get('strike_points', 0)):.2f} reached step {step} of the "
                f"sanction ladder after {after} for {cat}, under {pol}.")
    return f"The account was {verb}{span} for {cat} under rule {rule} of {pol}."


def _template(cat: str | None, text: str) -> str | None:
    for known in (TEMPLATES.get(cat or "", {}) | TEMPLATES["none"]).values():
        if text.startswith(known):
            return known
    return None


def _day(dt: datetime) -> str:
    u = utc(dt)
    assert u is not None
    return u.date().isoformat()


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# -- the schema -------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one statement."""
    ref = resources.files("vigil") / "data" / "schemas" / "dsa_sor.schema.json"
    loaded: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> Any:
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema())
    # the schema's local references resolved once: checking then takes half the time
    return cls(_inline(schema(), schema()["$defs"]), format_checker=cls.FORMAT_CHECKER)


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def problems(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, why) for every way ``body`` breaks the schema; empty when it validates."""
    out = []
    for e in sorted(_validator().iter_errors(body), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in e.absolute_path)
        if not path and e.validator in ("required", "dependentRequired"):
            wanted = (e.validator_value if e.validator == "required"
                      else [k for ks in e.validator_value.values() for k in ks])
            path = ", ".join(k for k in wanted if k not in body) or "(statement)"
        out.append((path or "(statement)", e.message))
    return out


def check(st: DsaStatement) -> None:
    """Raise InputError naming the decision and the field where ``st`` breaks the schema."""
    found = problems(st.body)
    if found:
        fld, why = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InputError(f"statement does not validate: {why}{more}",
                         where=f"decision {st.decision_id}, field {fld}")


# -- export ----------------------------------------------------------------------------------


def statements(store: Store, *, platform: str | None = None, since: datetime | None = None,
               until: datetime | None = None, settings: SorSettings | None = None,
               skipped: Counter[str] | None = None,
               progress: Callable[[int], None] | None = None) -> Iterator[DsaStatement]:
    """Statements of reasons for the decisions from ``since`` (inclusive) to ``until``
    (exclusive), oldest first, each checked against the schema. Decisions that restrict
    nothing are counted by action into ``skipped``; ``progress`` gets decisions read."""
    settings = settings or SorSettings()
    if settings.account_type is not None and settings.account_type not in ACCOUNT_TYPES:
        raise InputError("give business or private", where="account_type")
    if not settings.territorial_scope or set(settings.territorial_scope) - set(EEA):
        raise InputError("give EEA country codes", where="territorial_scope")
    texts = _policy_texts(store)
    n = 0
    for n, s in enumerate(scan(store, platform=platform, since=since, until=until), start=1):
        body = statement(s, settings, texts)
        if progress is not None and n % 200 == 0:
            progress(n)
        if body is None:
            if skipped is not None:
                skipped[s.row["action"]] += 1
            continue
        st = DsaStatement(s.row["platform"], s.row["id"], body)
        check(st)
        yield st
    if progress is not None:
        progress(n)


def export_sor(store: Store, out_dir: str | Path, *, platform: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               batch: int = MAX_BATCH, settings: SorSettings | None = None,
               overwrite: bool = False, progress: Callable[[int], None] | None = None
               ) -> SorExport:
    """Write statements of reasons as ``out_dir/sor-00001.json``... each
    ``{"statements": [...]}`` of at most ``batch`` (≤ 100) statements of one platform, ready
    for the bulk endpoint, and ``manifest.json`` naming each file's platform. Every
    statement is checked first; on a failure nothing of this export is left behind."""
    if not 1 <= batch <= MAX_BATCH:
        raise InputError(f"batch must be 1..{MAX_BATCH}, got {batch}", where="batch")
    out = Path(out_dir)
    old = sorted(out.glob("sor-*.json")) + [p for p in [out / "manifest.json"] if p.exists()]
    if old and not overwrite:
        raise InputError(f"{out} already holds an export ({len(old)} files); choose another "
                         "folder or overwrite it", where="output")
    out.mkdir(parents=True, exist_ok=True)
    for p in old:
        p.unlink()
    result = SorExport()
    pending: dict[str, list[DsaStatement]] = {}
    manifest: list[dict[str, Any]] = []

    def flush(plat: str) -> None:
        part = pending.pop(plat, [])
        if not part:
            return
        path = out / f"sor-{len(result.files) + 1:05d}.json"
        path.write_text(json.dumps({"statements": [s.body for s in part]}, ensure_ascii=False,
                                   indent=1) + "\n", encoding="utf-8")
        result.files.append(path)
        manifest.append({"file": path.name, "platform": plat, "statements": len(part),
                         "decisions": [s.decision_id for s in part]})

    try:
        for st in statements(store, platform=platform, since=since, until=until,
                             settings=settings, skipped=result.skipped, progress=progress):
            pending.setdefault(st.platform, []).append(st)
            result.statements += 1
            result.by_platform[st.platform] += 1
            if len(pending[st.platform]) >= batch:
                flush(st.platform)
        for plat in sorted(pending):
            flush(plat)
    except BaseException:
        for p in result.files:
            p.unlink(missing_ok=True)
        raise
    (out / "manifest.json").write_text(json.dumps({
        "statements": result.statements, "files": manifest,
        "platform": platform, "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=1) + "\n", encoding="utf-8")
    return result
