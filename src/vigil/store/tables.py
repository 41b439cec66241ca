"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/`` create them; a test
keeps the two in step."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

items = Table(
    "items",
    metadata,
    Column("platform", String(64), primary_key=True),
    Column("external_id", String(255), primary_key=True),
    Column("account", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("lang", String(16)),
    Column("url", Text),
    Column("reach", Integer, nullable=False),
    Column("reply_to", String(255)),
    Column("media", Text),  # JSON list of media references (never the bytes)
    Column("content_hash", String(64), nullable=False),
    # the latest verdict: what the platform should be doing with the item now
    Column("action", String(16), nullable=False),
    Column("category", String(32)),
    Column("review", Boolean, nullable=False),
    Column("scores", Text, nullable=False),  # JSON {category: score}
    Column("policy_version", String(32), nullable=False),
    Column("audited_at", DateTime(timezone=True), nullable=False),
)
Index("ix_items_account", items.c.platform, items.c.account)
Index("ix_items_action", items.c.action, items.c.category)

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("account", String(255), nullable=False),
    Column("item_id", String(255)),
    Column("kind", String(16), nullable=False),  # item | account
    Column("action", String(16), nullable=False),
    Column("category", String(32)),
    Column("rule", String(128)),
    Column("policy_version", String(32), nullable=False),
    Column("automated", Boolean, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON statement of reasons
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reverses", String(32)),
    Column("detectors", String(255)),  # comma-separated: how the violation was detected
)
Index("ix_decisions_account", decisions.c.platform, decisions.c.account)
Index("ix_decisions_item", decisions.c.platform, decisions.c.item_id)
Index("ix_decisions_category", decisions.c.category, decisions.c.action)
# the worker finds sanctions whose expiry is not yet recorded by their reversing decision
Index("ix_decisions_reverses", decisions.c.reverses)

strikes = Table(
    "strikes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("account", String(255), nullable=False),
    Column("item_id", String(255), nullable=False),
    Column("category", String(32), nullable=False),
    Column("weight", Double, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("decision_id", String(32), ForeignKey("decisions.id"), nullable=False),
)
Index("ix_strikes_account", strikes.c.platform, strikes.c.account)

sanctions = Table(
    "sanctions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("account", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("decision_id", String(32), ForeignKey("decisions.id"), nullable=False),
    Column("reason", Text, nullable=False),
)
Index("ix_sanctions_account", sanctions.c.platform, sanctions.c.account)
Index("ix_sanctions_expiry", sanctions.c.expires_at)

policies = Table(
    "policies",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("source", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("first_used", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),  # item | decision | strike | sanction | policy
    Column("ref", String(320), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_log_ref", audit_log.c.kind, audit_log.c.ref)

log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("claim_id", String(512), primary_key=True),
    Column("text", Text, nullable=False),
    Column("rating", String(16), nullable=False),  # false | misleading | mixed | true | unrated
    Column("rating_text", Text, nullable=False),  # the publisher's own words
    Column("publisher", String(255), nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("reviewed", Date),
    Column("lang", String(16), nullable=False),
    Column("source", String(255), nullable=False),  # the file it was imported from
    Column("content_hash", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),  # removal keeps the row and its history
)
Index("ix_claims_rating", claims.c.rating)

# Derived data, not logged: a claim's sentence embedding, computed once at import.
claim_vectors = Table(
    "claim_vectors",
    metadata,
    Column("claim_id", String(512), ForeignKey("claims.claim_id"), primary_key=True),
    Column("text_hash", String(64), nullable=False),
    Column("model", String(64), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float16, little-endian
)

# Derived data, not logged: each item's MinHash signature for the near-duplicate index
# (vigil.neardup), written with the item; ``root`` names the first item of its
# near-identical text group. ``vigil index rebuild`` recomputes them from the items.
fingerprints = Table(
    "fingerprints",
    metadata,
    Column("platform", String(64), primary_key=True),
    Column("item_id", String(255), primary_key=True),
    Column("account", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("scheme", String(64), nullable=False),
    Column("size", Integer, nullable=False),  # distinct shingles
    Column("sig", LargeBinary, nullable=False),  # uint32 little-endian, one per permutation
    Column("root", String(255), nullable=False),
)

# Which item carried which shared artefact (``url:...``, ``phone:...``, ``handle:...``,
# ``email:...``, or ``text:<root item>``), when, from which account; ``flagged`` once the
# item was found in a coordinated burst.
cluster_members = Table(
    "cluster_members",
    metadata,
    Column("platform", String(64), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("item_id", String(255), primary_key=True),
    Column("account", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("flagged", Boolean, nullable=False),
)
Index("ix_cluster_members_key_at", cluster_members.c.platform, cluster_members.c.key,
      cluster_members.c.at)
Index("ix_cluster_members_item", cluster_members.c.platform, cluster_members.c.item_id)

# A coordinated-posting cluster: at least N accounts sharing one artefact within the
# policy's window. Logged: policy and reviewers act on it.
clusters = Table(
    "clusters",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # text | url | phone | handle | email
    Column("key", String(512), nullable=False),
    Column("accounts", Integer, nullable=False),
    Column("items", Integer, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("window_hours", Double, nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
)
Index("ix_clusters_platform", clusters.c.platform, clusters.c.last_at)

# API keys: only a hash of the secret is kept. ``platforms`` is a comma-separated list, or
# ``*`` for every platform (an auditor's view). Creating and revoking a key is logged.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # the key's public prefix
    Column("hash", String(64), nullable=False),  # sha256 of the whole key, hex
    Column("role", String(16), nullable=False),  # platform | moderator | admin | auditor
    Column("platforms", Text, nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# The response to a request sent with an Idempotency-Key, per API key: a repeat gets the
# same answer without running again.
idempotency = Table(
    "idempotency",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("idem_key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # hash of method, path and body
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Human review work: a case per item sent to review (automated review band, a user's
# report, a trusted flagger's report) and per appeal. ``locked_until``/``assignee``: the
# exclusive claim of one reviewer. Every change is logged.
cases = Table(
    "cases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("item_id", String(255)),
    Column("account", String(255), nullable=False),
    Column("kind", String(16), nullable=False),  # review | report | appeal
    Column("queue", String(64), nullable=False),
    Column("category", String(32)),
    Column("priority", Double, nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("assignee", String(255)),
    Column("locked_until", DateTime(timezone=True)),
    Column("reporter", String(255)),
    Column("trusted", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decision_id", String(32)),  # the decision appealed (appeals)
    Column("outcome", String(32)),
    Column("outcome_decision", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)
Index("ix_cases_queue", cases.c.platform, cases.c.status, cases.c.queue, cases.c.priority)
Index("ix_cases_item", cases.c.platform, cases.c.item_id)

# A sanction lifted before its time (an appeal overturned it): in force until ``at``.
sanction_lifts = Table(
    "sanction_lifts",
    metadata,
    Column("sanction_id", String(32), ForeignKey("sanctions.id"), primary_key=True),
    Column("decision_id", String(32), ForeignKey("decisions.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Where a platform wants its action notifications; the secret signs them (HMAC-SHA256).
webhooks = Table(
    "webhooks",
    metadata,
    Column("platform", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The outbox: one row per notification, written in the transaction of the decision it
# reports (nothing is lost on a crash), delivered and retried by the worker.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("decision_id", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
)
Index("ix_deliveries_due", deliveries.c.status, deliveries.c.next_at)
Index("ix_deliveries_platform", deliveries.c.platform, deliveries.c.created_at)


# a sweep (bulk re-audit): its spec and partitions (JSON), the policy it applies, the
# fixed time its decisions and log entries carry, and its checkpoint (``cursor``: input
# rows committed); every change is logged, so it holds nothing that differs between runs
sweeps = Table(
    "sweeps",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),  # running | done
    Column("dry_run", Boolean, nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("spec", Text, nullable=False),
    Column("parts", Text, nullable=False),
    Column("total", Integer, nullable=False),
    Column("cursor", Integer, nullable=False),
    Column("tally", Text, nullable=False),
    Column("now", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# each time a sweep was run (wall-clock times; not logged, not part of the sweep's
# result): an interrupted run has no ``finished_at``
sweep_runs = Table(
    "sweep_runs",
    metadata,
    Column("sweep_id", String(32), primary_key=True),
    Column("started_at", DateTime(timezone=True), primary_key=True),
    Column("engine", String(16), nullable=False),
    Column("from_row", Integer, nullable=False),
    Column("to_row", Integer, nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

# the stored items a sweep covers, numbered in the order it audits them
sweep_items = Table(
    "sweep_items",
    metadata,
    Column("sweep_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
)

#: Tables whose every row is covered by the audit log, with the columns naming a row.
LOGGED = {
    "item": (items, ("platform", "external_id")),
    "decision": (decisions, ("id",)),
    "strike": (strikes, ("id",)),
    "sanction": (sanctions, ("id",)),
    "policy": (policies, ("version",)),
    "claim": (claims, ("claim_id",)),
    "cluster": (clusters, ("id",)),
    "api_key": (api_keys, ("id",)),
    "case": (cases, ("id",)),
    "lift": (sanction_lifts, ("sanction_id",)),
    "sweep": (sweeps, ("id",)),
}

# People who sign in to the console (``vigil users``): a salted scrypt hash of the
# password, never the password. ``platforms``: a JSON list, or ``*`` for every platform.
# ``wellness``: blur images and mask slurs until revealed. Every change is logged.
users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # moderator | admin | auditor
    Column("platforms", Text, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("wellness", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Console sessions: the cookie holds a random token, the store only its SHA-256; ``csrf``
# is the token every form of the session must carry. Not logged (they come and go).
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's token, hex
    Column("username", String(64), ForeignKey("users.username"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_user_sessions_user", user_sessions.c.username)

LOGGED["user"] = (users, ("username",))

# Media hash banks (vigil.media): named lists of known image hashes with a category, a
# match distance, and whether they are *allow* banks (known-benign images that suppress
# matches). ``generation`` goes up with every change, so running detectors see it.
media_banks = Table(
    "media_banks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("category", String(32), nullable=False),
    Column("threshold", Integer, nullable=False),  # PDQ Hamming distance (of 256 bits)
    Column("allow", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("notes", Text, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One hash in a bank: ``signal_type`` is pdq or md5, ``signal`` its lower-case hex.
# Removal keeps the row (``removed_at``) so the log still covers what earlier decisions
# matched. Every row is logged.
bank_signals = Table(
    "bank_signals",
    metadata,
    Column("bank", String(64), ForeignKey("media_banks.name"), primary_key=True),
    Column("signal_type", String(16), primary_key=True),
    Column("signal", String(64), primary_key=True),
    Column("note", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)

LOGGED["bank"] = (media_banks, ("name",))
LOGGED["bank_signal"] = (bank_signals, ("bank", "signal_type", "signal"))
