"""Signals that live between items: plagiarism and coordinated posting.

No single-item detector can see that a post copies an article another account published
yesterday, or that twenty accounts posted the same phone number within the hour. This
module keeps what those questions need — a near-duplicate index of every audited item
(``vigil.neardup``) and, per shared artefact, which account posted it when — and turns a
batch into extra signals for ``audit``:

- **plagiarism**: the item's text lies mostly (share ≥ ``plagiarism.min_share`` of its
  shingles) inside an item posted *earlier* by a *different* account; the score is that
  share and the evidence names the original (item, account, time, similarity). The
  original's author is never flagged, reposting one's own text is not plagiarism, and a
  long text quoting a short passage is not a copy (its share inside the source is low).
- **coordination**: at least ``coordination.min_accounts`` distinct accounts post
  near-identical text, or the same link / phone number / messaging handle / e-mail
  address, within ``coordination.window_hours`` → a ``spam`` signal on each item of the
  burst and a cluster record. Items of the burst audited before it reached N are audited
  again (their decisions then escalate).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from vigil.audit import AUTOMATED_ACTOR, Decision, _id, appeal_text
from vigil.detectors import Evidence, Prepared, Signal
from vigil.detectors.artefacts import Artefact, contact_artefacts
from vigil.items import Item, Sanction
from vigil.neardup import SCHEME, Match, MinHasher, NearDupIndex, shingle_hashes
from vigil.policy import CoordinationRules, PlagiarismRules, Policy

if TYPE_CHECKING:
    from vigil.store import Store


def plagiarism_share(match: Match, size_new: int, size_original: int,
                     rules: PlagiarismRules) -> float | None:
    """The plagiarism score of a new item against one earlier item by another account:
    the estimated share of the new item's shingles found in the original, when both texts
    are long enough to judge and the share reaches ``rules.min_share``; else ``None``."""
    if size_new < rules.min_shingles or size_original < rules.min_shingles:
        return None
    return match.query_in if match.query_in >= rules.min_share else None


PLAGIARISM_DETECTOR = "plagiarism_index"
COORDINATION_DETECTOR = "coordination"
VERSION = "1.0"
LOAD_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index keeps about one item besides its signature."""

    item_id: str
    account: str
    at: datetime
    size: int
    root: str


@dataclass(frozen=True, slots=True)
class Member:
    """One item carrying one shared key (``url:...``, ``text:<root>``...)."""

    key: str
    item_id: str
    account: str
    at: datetime
    flagged: bool = False
    artefact: Artefact | None = None


@dataclass(slots=True)
class RelationPlan:
    """What relations concluded for a batch, and what to write with it.

    ``signals`` are for the batch's items; ``reaudit`` names stored items to audit again
    with these signals (members of a burst that reached N only now, copies of an original
    that arrived late). The rest is written in the batch's transaction by
    ``Store.record`` and added to the in-memory index by :meth:`Relations.commit`.
    """

    signals: dict[tuple[str, str], list[Signal]] = field(default_factory=dict)
    reaudit: dict[tuple[str, str], list[Signal]] = field(default_factory=dict)
    fingerprints: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    flag: list[tuple[str, str, str]] = field(default_factory=list)
    clusters: list[tuple[str, str]] = field(default_factory=list)
    policy_version: str = ""
    window_hours: float = 0.0
    #: (platform, cluster id, key, accounts of the burst) for every burst found
    bursts: list[tuple[str, str, str, frozenset[str]]] = field(default_factory=list)
    pending: list[tuple[str, list[str], np.ndarray, list[int], list[Entry]]] = field(
        default_factory=list)


def cluster_id(platform: str, key: str) -> str:
    return hashlib.blake2b(f"{platform}\x1f{key}".encode(), digest_size=8).hexdigest()


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _ignored(art: Artefact, rules: CoordinationRules) -> bool:
    if art.kind not in rules.artefacts:
        return True
    if art.kind != "url":
        return False
    host = art.value.split("/", 1)[0]
    return any(host == d or host.endswith("." + d) for d in rules.ignore_domains)


class _PlatformIndex:
    __slots__ = ("index", "meta")

    def __init__(self) -> None:
        self.index = NearDupIndex()
        self.meta: dict[str, Entry] = {}


class Relations:
    """The near-duplicate index and artefact history of a store, per platform.

    A platform's index is loaded from the store the first time one of its items is seen
    (fingerprints are stored with the items, so a restart loses nothing) and kept up to
    date by :meth:`commit` after each batch is written. Platforms never see each other's
    items.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.hasher = MinHasher()
        self._platforms: dict[str, _PlatformIndex] = {}
        self.stale = 0  # stored signatures of another scheme, skipped (rebuild the index)

    def loaded(self, platform: str) -> _PlatformIndex:
        pidx = self._platforms.get(platform)
        if pidx is not None:
            return pidx
        pidx = _PlatformIndex()
        keys: list[str] = []
        sigs: list[np.ndarray] = []
        sizes: list[int] = []
        ranks: list[float] = []
        for row in self.store.fingerprint_rows(platform):
            if row.scheme != SCHEME:
                self.stale += 1
                continue
            keys.append(row.item_id)
            sigs.append(np.frombuffer(row.sig, dtype="<u4"))
            sizes.append(row.size)
            e = Entry(row.item_id, row.account, _utc(row.at), row.size, row.root)
            pidx.meta[row.item_id] = e
            ranks.append(e.at.timestamp())
            if len(keys) >= LOAD_CHUNK:
                pidx.index.add(keys, np.vstack(sigs), sizes, ranks)
                keys, sigs, sizes, ranks = [], [], [], []
        if keys:
            pidx.index.add(keys, np.vstack(sigs), sizes, ranks)
        self._platforms[platform] = pidx
        return pidx

    def plan(self, batch: Sequence[Item], policy: Policy, now: datetime) -> RelationPlan:
        """Relation signals for a batch about to be audited (nothing is written yet)."""
        out = RelationPlan(policy_version=policy.version,
                           window_hours=policy.data.coordination.window_hours)
        groups: dict[str, list[Item]] = defaultdict(list)
        for it in batch:
            groups[it.platform].append(it)
        for platform, items in groups.items():
            self._plan_platform(platform, items, policy, _utc(now), out)
        return out

    def _plan_platform(self, platform: str, items: list[Item], policy: Policy,
                       now: datetime, out: RelationPlan) -> None:
        rp, rc = policy.data.plagiarism, policy.data.coordination
        pidx = self.loaded(platform)
        n = len(items)
        ids = [it.id for it in items]
        in_batch = set(ids)
        prepared, sizes, sigs = _fingerprint(items, self.hasher)
        ats = [_utc(it.created_at) if it.created_at else now for it in items]
        stored_matches = pidx.index.query(sigs, sizes)
        local_matches: list[list[Match]] = [[]]  # one item: it could only find itself
        if n > 1:
            local = NearDupIndex()
            local.add(ids, sigs, sizes)
            local_matches = local.query(sigs, sizes)
        order = sorted(range(n), key=lambda i: (ats[i], i))
        rank = {ids[i]: r for r, i in enumerate(order)}
        entries: dict[str, Entry] = {}
        members: list[Member] = []
        for i in order:
            item = items[i]
            cands: list[tuple[Match, Entry, int]] = [
                (m, pidx.meta[str(m.key)], -1) for m in stored_matches[i]
                if m.key not in in_batch]
            cands += [(m, entries[str(m.key)], rank[str(m.key)]) for m in local_matches[i]
                      if m.key != item.id and str(m.key) in entries]
            original: tuple[Entry, float, Match] | None = None
            near: Entry | None = None
            for m, e, r in cands:
                if (e.at, r) < (ats[i], rank[item.id]):
                    share = plagiarism_share(m, sizes[i], e.size, rp) if rp.enabled else None
                    if share is not None and (original is None or e.at < original[0].at):
                        original = (e, share, m)
                    if _near(m, sizes[i], e, rc) and (near is None or e.at < near.at):
                        near = e
                elif r < 0 and rp.enabled and e.account != item.account:
                    # an indexed item posted AFTER this one that copies it (late arrival)
                    late = Match(e.item_id, m.jaccard, m.in_query, m.query_in)
                    share = plagiarism_share(late, e.size, sizes[i], rp)
                    if share is not None:
                        out.reaudit.setdefault((platform, e.item_id), []).append(
                            _plagiarism_signal(share, late.jaccard, item.id, item.account,
                                               ats[i]))
            if original is not None and original[0].account != item.account:
                e, share, m = original
                out.signals.setdefault((platform, item.id), []).append(
                    _plagiarism_signal(share, m.jaccard, e.item_id, e.account, e.at))
            root = near.root if near is not None else item.id
            entries[item.id] = Entry(item.id, item.account, ats[i], sizes[i], root)
            if rc.enabled:
                if sizes[i] >= rc.min_shingles:
                    members.append(Member(f"text:{root}", item.id, item.account,
                                          ats[i]))
                for art in contact_artefacts(prepared[i]):
                    if not _ignored(art, rc):
                        members.append(Member(art.key, item.id, item.account, ats[i],
                                              artefact=art))
        out.fingerprints += [_fingerprint_row(platform, entries[x], sig)
                             for x, sig in zip(ids, sigs, strict=True)]
        out.pending.append((platform, ids, sigs, sizes, [entries[i] for i in ids]))
        if members:
            self._coordination(platform, members, in_batch, rc, out)

    def _coordination(self, platform: str, members: list[Member], in_batch: set[str],
                      rules: CoordinationRules, out: RelationPlan) -> None:
        window = timedelta(hours=rules.window_hours)
        by_key: dict[str, list[Member]] = defaultdict(list)
        for m in members:
            by_key[m.key].append(m)
        lo = min(m.at for m in members) - window
        hi = max(m.at for m in members) + window
        for m in self.store.cluster_members(platform, list(by_key), lo, hi):
            if m.item_id not in in_batch:
                by_key[m.key].append(m)
        flagged_new: set[tuple[str, str]] = set()
        for key, ms in by_key.items():
            if not any(m.item_id in in_batch for m in ms):
                continue
            burst = _bursts(ms, window, rules.min_accounts)
            if not burst:
                continue
            kind = key.split(":", 1)[0]
            score = rules.text_score if kind == "text" else rules.artefact_score
            accounts = len({m.account for m in burst})
            cid = cluster_id(platform, key)
            for m in burst:
                sig = _coordination_signal(score, cid, key, accounts, len(burst),
                                           rules.window_hours, m.artefact)
                if m.item_id in in_batch:
                    out.signals.setdefault((platform, m.item_id), []).append(sig)
                    flagged_new.add((key, m.item_id))
                elif not m.flagged:
                    out.reaudit.setdefault((platform, m.item_id), []).append(sig)
                    out.flag.append((platform, key, m.item_id))
            out.clusters.append((platform, key))
            out.bursts.append((platform, cid, key, frozenset(m.account for m in burst)))
        for m in members:
            out.members.append({"platform": platform, "key": m.key, "item_id": m.item_id,
                                "account": m.account, "at": m.at,
                                "flagged": (m.key, m.item_id) in flagged_new})

    def commit(self, plan: RelationPlan) -> None:
        """Add a written batch to the in-memory index."""
        for platform, ids, sigs, sizes, entries in plan.pending:
            pidx = self.loaded(platform)
            # ranked by time, as a restart loads them: the index answers the same either way
            pidx.index.add(ids, sigs, sizes, [e.at.timestamp() for e in entries])
            for e in entries:
                pidx.meta[e.item_id] = e
        plan.pending.clear()


def _fingerprint(items: Sequence[Item], hasher: MinHasher
                 ) -> tuple[list[Prepared], list[int], np.ndarray]:
    """Each item's normalised views (shared with the artefact scan), shingle count and
    MinHash signature."""
    prepared = [Prepared(it) for it in items]
    hashes = [shingle_hashes(p.match.text, normalized=True) for p in prepared]
    return prepared, [len(h) for h in hashes], hasher.signatures(hashes)


def _fingerprint_row(platform: str, e: Entry, sig: np.ndarray) -> dict[str, Any]:
    return {"platform": platform, "item_id": e.item_id, "account": e.account, "at": e.at,
            "scheme": SCHEME, "size": e.size, "sig": sig.astype("<u4").tobytes(),
            "root": e.root}


def _near(m: Match, size: int, e: Entry, rules: CoordinationRules) -> bool:
    """Near-identical text, both long enough to count as the same post."""
    return (m.jaccard >= rules.text_similarity and size >= rules.min_shingles
            and e.size >= rules.min_shingles)


def _bursts(members: list[Member], window: timedelta, min_accounts: int) -> list[Member]:
    """Members inside some time window of length ``window`` that holds at least
    ``min_accounts`` distinct accounts (a sliding window over the members in time order)."""
    ms = sorted(members, key=lambda m: (m.at, m.item_id))
    counts: Counter[str] = Counter()
    marked_to = -1
    keep: list[Member] = []
    j = 0
    for k, m in enumerate(ms):
        counts[m.account] += 1
        while ms[k].at - ms[j].at > window:
            counts[ms[j].account] -= 1
            if not counts[ms[j].account]:
                del counts[ms[j].account]
            j += 1
        if len(counts) >= min_accounts:
            keep.extend(ms[max(j, marked_to + 1) : k + 1])
            marked_to = k
    return keep


def _plagiarism_signal(share: float, jaccard: float, item_id: str, account: str,
                       at: datetime) -> Signal:
    return Signal("plagiarism", round(share, 4), PLAGIARISM_DETECTOR, VERSION, (Evidence(
        "", note=f"{share:.0%} of this text is in an earlier item by another account",
        ref={"item": item_id, "account": account, "at": at.isoformat(),
             "similarity": round(share, 4), "resemblance": round(jaccard, 4)}),))


def _coordination_signal(score: float, cid: str, key: str, accounts: int, items: int,
                         window_hours: float, art: Artefact | None) -> Signal:
    kind, value = key.split(":", 1)
    what = "near-identical text" if kind == "text" else f"the same {kind}"
    ref = {"cluster": cid, "kind": kind, "key": value, "accounts": accounts, "items": items,
           "window_hours": window_hours}
    note = f"{what} posted by {accounts} accounts within {window_hours:g} h"
    ev = (Evidence("", note=note, ref=ref) if art is None
          else Evidence(art.text, art.start, art.end, note, ref))
    return Signal("spam", score, COORDINATION_DETECTOR, VERSION, (ev,))


def rebuild(store: Store, policy: Policy, platform: str, chunk: int = 2000,
            progress: Callable[[int], None] | None = None) -> int:
    """Recompute a platform's fingerprints (and near-identical text roots) from the stored
    items, oldest first — after a change of shingling scheme, or to repair the index.
    Artefact history and clusters are records and stay as they are. Returns the number of
    items indexed."""
    rc = policy.data.coordination
    hasher = MinHasher()
    index = NearDupIndex()
    meta: dict[str, Entry] = {}
    store.clear_fingerprints(platform)
    done = 0
    for items in store.iter_items(platform, chunk):
        _, sizes, sigs = _fingerprint(items, hasher)
        ids = [it.id for it in items]
        pos = {x: k for k, x in enumerate(ids)}
        local = NearDupIndex()
        local.add(ids, sigs, sizes)
        stored = index.query(sigs, sizes, min_jaccard=rc.text_similarity)
        within = local.query(sigs, sizes, min_jaccard=rc.text_similarity)
        rows = []
        for i, it in enumerate(items):
            at = _utc(it.created_at) if it.created_at else _utc(datetime.now(UTC))
            best: Entry | None = None
            for m in stored[i] + [m for m in within[i] if pos[str(m.key)] < i]:
                e = meta[str(m.key)]
                if _near(m, sizes[i], e, rc) and (best is None or e.at < best.at):
                    best = e
            meta[it.id] = Entry(it.id, it.account, at, sizes[i],
                                best.root if best is not None else it.id)
            rows.append(_fingerprint_row(platform, meta[it.id], sigs[i]))
        index.add(ids, sigs, sizes, [meta[x].at.timestamp() for x in ids])
        store.put_fingerprints(rows)
        done += len(items)
        if progress is not None:
            progress(done)
    return done


def group_sanctions(plan: RelationPlan, policy: Policy, now: datetime,
                    already: Callable[[list[str]], set[str]]
                    ) -> list[tuple[Decision, Sanction]]:
    """The policy's group sanction (``coordination.account_sanction``) for every account of
    the bursts in ``plan``, once per account and cluster (``already`` returns which
    sanction ids are recorded)."""
    rules = policy.data.coordination
    kind = rules.account_sanction
    if kind is None or not plan.bursts:
        return []
    wanted: dict[str, tuple[str, str, str, str, int]] = {}
    for platform, cid, key, accounts in plan.bursts:
        for account in sorted(accounts):
            sid = _id(platform, account, cid, "group", kind)
            wanted[sid] = (platform, account, cid, key, len(accounts))
    done = already(list(wanted))
    expires = now + timedelta(days=rules.account_sanction_days) \
        if rules.account_sanction_days else None
    out = []
    for sid, (platform, account, cid, key, n) in wanted.items():
        if sid in done:
            continue
        kind_of, value = key.split(":", 1)
        what = "near-identical text" if kind_of == "text" else f"the same {kind_of} {value!r}"
        did = _id(sid, "decision")
        rule = f"coordination.account_sanction.{kind}"
        reasons = {
            "action": kind, "category": "spam", "rule": rule,
            "facts": (f"account is one of {n} accounts that posted {what} within "
                      f"{rules.window_hours:g} h (cluster {cid})"),
            "policy": {"name": policy.name, "version": policy.version},
            "automated": True,
            "cluster": {"id": cid, "kind": kind_of, "key": value, "accounts": n},
            "days": rules.account_sanction_days,
            "expires_at": expires.isoformat() if expires else None,
            "appeal": appeal_text(policy),
        }
        decision = Decision(id=did, platform=platform, account=account, item_id=None,
                            kind="account", action=kind, category="spam", rule=rule,
                            policy_version=policy.version, automated=True,
                            actor=AUTOMATED_ACTOR, reasons=reasons, at=now)
        sanction = Sanction(id=sid, platform=platform, account=account, kind=kind, step=0,
                            at=now, expires_at=expires, decision_id=did,
                            reason=f"coordinated posting, cluster {cid}")
        out.append((decision, sanction))
    return out
