"""Vigil: self-hosted content auditing and account enforcement for social platforms.

The public API is what ``__all__`` lists; everything else is internal.
"""

from vigil.audit import AccountState, AuditContext, AuditResult, Decision, audit, detect
from vigil.detectors import (
    CATEGORIES,
    Detector,
    Evidence,
    Example,
    Prepared,
    Signal,
    check_detector,
    default_detectors,
)
from vigil.dsa import DsaStatement, SorExport, SorSettings, export_sor
from vigil.errors import (
    InputError,
    PolicyError,
    PolicyProblem,
    StoreError,
    VigilError,
)
from vigil.ingest import Tally, audit_batch
from vigil.items import Account, Item, Media, Sanction, Strike
from vigil.media.detector import MediaDetector
from vigil.media.hashing import ImageHashes, hash_image
from vigil.media.index import MatchIndex
from vigil.neardup import MinHasher, NearDupIndex
from vigil.normalize import Normalized, normalize
from vigil.pipeline import store_detectors
from vigil.policy import Finding, Policy, Verdict, evaluate, load_policy, parse_policy
from vigil.relations import RelationPlan, Relations
from vigil.reports import Report, build_report
from vigil.store import Store
from vigil.store.banks import Bank, Banks
from vigil.stream import StreamSettings, StreamWorker
from vigil.sweeps import Sweep, SweepConfig, SweepReport, score_frame
from vigil.transparency import period_counts
from vigil.transparency_report import TransparencyReport, build_transparency

__version__ = "0.1.0"

__all__ = [  # noqa: RUF022 - plain sorted(), checked by tests/test_public_api.py
    "Account",
    "AccountState",
    "AuditContext",
    "AuditResult",
    "Bank",
    "Banks",
    "CATEGORIES",
    "Decision",
    "Detector",
    "DsaStatement",
    "Evidence",
    "Example",
    "Finding",
    "ImageHashes",
    "InputError",
    "Item",
    "MatchIndex",
    "Media",
    "MediaDetector",
    "MinHasher",
    "NearDupIndex",
    "Normalized",
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "Prepared",
    "RelationPlan",
    "Relations",
    "Report",
    "Sanction",
    "Signal",
    "SorExport",
    "SorSettings",
    "Store",
    "StoreError",
    "StreamSettings",
    "StreamWorker",
    "Strike",
    "Sweep",
    "SweepConfig",
    "SweepReport",
    "Tally",
    "TransparencyReport",
    "Verdict",
    "VigilError",
    "__version__",
    "audit",
    "audit_batch",
    "build_report",
    "build_transparency",
    "check_detector",
    "default_detectors",
    "detect",
    "evaluate",
    "export_sor",
    "hash_image",
    "load_policy",
    "normalize",
    "parse_policy",
    "period_counts",
    "score_frame",
    "store_detectors",
]
