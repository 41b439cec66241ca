"""What the HTTP service keeps beside the audit record: API keys and remembered idempotent
answers, review cases and appeals, webhooks and their deliveries. ``Store`` takes these
methods from :class:`ServiceRecords`; each is one transaction over a function of
``vigil.store.keys``, ``review`` or ``outbox``."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from vigil.errors import StoreError
from vigil.review import Reviewer
from vigil.store import keys as keystore
from vigil.store import outbox
from vigil.store import review as reviewstore
from vigil.store.keys import ApiKey

if TYPE_CHECKING:
    from vigil.policy import Policy


class ServiceRecords:
    """API keys, idempotency, review cases, webhooks (mixed into ``Store``)."""

    key_revocations: int

    def begin(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    # -- API keys and idempotency ----------------------------------------------------------

    def remembered(self, key_id: str, idem_key: str) -> tuple[str, int, str] | None:
        with self.read() as conn:
            return keystore.remembered(conn, key_id, idem_key)

    def remember(self, key_id: str, idem_key: str, fingerprint: str, status: int, body: str,
                 now: datetime | None = None) -> None:
        try:
            with self.begin() as conn:
                keystore.remember(conn, key_id, idem_key, fingerprint, status, body,
                                  now or datetime.now(UTC))
        except SQLAlchemyError as exc:  # a concurrent twin stored it first: fine
            if self.remembered(key_id, idem_key) is None:
                raise StoreError(f"cannot store idempotent response: {exc}") from exc

    def create_api_key(self, role: str, platforms: Sequence[str], name: str = "",
                       now: datetime | None = None) -> tuple[ApiKey, str]:
        """A new API key (logged); returns it and its token, which is not stored."""
        with self.begin() as conn:
            return keystore.create(conn, role, tuple(platforms), name,
                                   now or datetime.now(UTC))

    def api_key(self, token: str) -> ApiKey | None:
        with self.read() as conn:
            return keystore.lookup(conn, token)

    def api_keys(self) -> list[ApiKey]:
        with self.read() as conn:
            return keystore.list_keys(conn)

    def revoke_api_key(self, key_id: str, now: datetime | None = None) -> bool:
        with self.begin() as conn:
            done = keystore.revoke(conn, key_id, now or datetime.now(UTC))
        self.key_revocations += 1  # caches of key lookups over this store start again
        return done

    # -- human review --------------------------------------------------------------------------

    def _case_op(self, fn: Any, *args: Any) -> Any:
        try:
            with self.begin() as conn:
                return fn(conn, *args)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot update case: {exc}") from exc

    def open_case(self, row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """Open a case (an open one for the same item absorbs it); logged."""
        result: dict[str, Any] = self._case_op(reviewstore.open_item_case, row,
                                               now or datetime.now(UTC))
        return result

    def case(self, case_id: str) -> dict[str, Any] | None:
        with self.read() as conn:
            found: dict[str, Any] | None = reviewstore.get(conn, case_id)
            return found

    def cases(self, platforms: Sequence[str] | None = None, queue: str | None = None,
              kind: str | None = None, status: str = "open", limit: int = 50
              ) -> list[dict[str, Any]]:
        """A queue: trusted flaggers first, then priority, then age."""
        with self.read() as conn:
            rows: list[dict[str, Any]] = reviewstore.queue(conn, platforms, queue, kind,
                                                           status, limit)
            return rows

    def claim_case(self, case_id: str, reviewer: Reviewer, minutes: float,
                   now: datetime | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._case_op(reviewstore.claim, case_id, reviewer, minutes,
                                               now or datetime.now(UTC))
        return result

    def escalate_case(self, case_id: str, reviewer: Reviewer, reason: str,
                      now: datetime | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._case_op(reviewstore.escalate, case_id, reviewer,
                                               reason, now or datetime.now(UTC))
        return result

    def decide_case(self, case_id: str, reviewer: Reviewer, action: str,
                    category: str | None, reason: str, policy: Policy,
                    now: datetime | None = None) -> str:
        result: str = self._case_op(reviewstore.decide, case_id, reviewer, action, category,
                                    reason, policy, now or datetime.now(UTC))
        return result

    def appeal(self, decision: dict[str, Any], statement: str, appellant: str | None,
               policy: Policy, now: datetime | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._case_op(reviewstore.appeal, decision, statement,
                                               appellant, policy, now or datetime.now(UTC))
        return result

    def resolve_appeal(self, case_id: str, reviewer: Reviewer, outcome: str, reason: str,
                       policy: Policy, now: datetime | None = None) -> str:
        result: str = self._case_op(reviewstore.resolve, case_id, reviewer, outcome, reason,
                                    policy, now or datetime.now(UTC))
        return result

    # -- webhooks ------------------------------------------------------------------------------

    def set_webhook(self, platform: str, url: str, secret: str,
                    now: datetime | None = None) -> None:
        with self.begin() as conn:
            outbox.set_webhook(conn, platform, url, secret, now or datetime.now(UTC))

    def webhook(self, platform: str) -> dict[str, Any] | None:
        with self.read() as conn:
            return outbox.webhook(conn, platform)

    def due_deliveries(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        with self.read() as conn:
            return outbox.due(conn, now, limit)

    def mark_delivery(self, delivery_id: str, **values: Any) -> None:
        with self.begin() as conn:
            outbox.mark(conn, delivery_id, **values)

    def deliveries(self, platforms: Sequence[str], status: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
        with self.read() as conn:
            return outbox.listing(conn, platforms, status, limit)

    def delivery_counts(self, platform: str | None = None) -> dict[str, int]:
        with self.read() as conn:
            return outbox.counts(conn, platform)
