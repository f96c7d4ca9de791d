"""Login and registration throttling (OWASP ASVS 2.2), with its counters in Postgres so that every
replica of every service sees the same numbers.

- Per (username, address) pair: the first ``free_pair_failures`` failures cost nothing, then each
  further failure blocks the pair for 2, 4, 8 … seconds, at most ``max_backoff_seconds``. Only the
  pair that guesses is slowed: a stranger elsewhere cannot lock the owner out.
- Per username: past ``user_failures_per_hour`` failures from all addresses together, only
  addresses the user has logged in from before may still try (guessing stays bounded, also from
  many addresses; the owner at their usual address is not blocked).
- Per address: past ``address_failures`` failures in ``address_window_seconds`` (over all
  usernames: one address guessing many accounts), and past ``address_logins_per_minute`` login
  attempts of any outcome, only known (user, address) pairs may log in from it; an office behind
  one NAT keeps working for everyone who logged in there before.
- Registrations: at most ``address_registrations_per_hour`` per address (argon2 is the cost).
Addresses in ``exempt_addresses`` (an operator's own monitors, the test stack) skip the per-address
limits only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.errors import TooManyRequests
from metadata_ms.models import KnownAddress, ThrottleCounter

HOUR = 3600
# A pair's failures are forgotten a day after its first one (a success forgets them at once).
PAIR_WINDOW_SECONDS = 24 * HOUR


@dataclass(frozen=True)
class ThrottlePolicy:
    free_pair_failures: int = 5
    max_backoff_seconds: int = 15 * 60
    user_failures_per_hour: int = 100
    address_failures: int = 50
    address_window_seconds: int = 15 * 60
    address_logins_per_minute: int = 60
    address_registrations_per_hour: int = 20
    exempt_addresses: frozenset[str] = field(default_factory=frozenset)

    def pair_backoff_seconds(self, failures: int) -> int:
        """How long a pair waits after its ``failures``-th failure in a row."""
        beyond = failures - self.free_pair_failures
        if beyond <= 0:
            return 0
        return min(int(2 ** min(beyond, 30)), self.max_backoff_seconds)


@dataclass(frozen=True)
class Counter:
    count: int
    resets_at: datetime
    blocked_until: datetime | None


def too_many(what: str, until: datetime, now: datetime) -> TooManyRequests:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return TooManyRequests(f"{what}; try again in {seconds} s", headers={"Retry-After": str(seconds)})


class Throttle:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: ThrottlePolicy) -> None:
        self._sessions = sessions
        self.policy = policy

    async def _read(self, session: AsyncSession, keys: dict[str, int], now: datetime) -> dict[str, Counter]:
        """The live counters among ``keys`` (key → its window in seconds); expired ones read as absent."""
        rows = await session.execute(sa.select(ThrottleCounter).where(ThrottleCounter.key.in_(keys)))
        live = {}
        for (row,) in rows:
            resets_at = row.window_start + timedelta(seconds=keys[row.key])
            if resets_at > now:
                live[row.key] = Counter(row.count, resets_at, row.blocked_until)
        return live

    async def _bump(self, session: AsyncSession, key: str, window_seconds: int, now: datetime) -> Counter:
        """Count one more in the key's window (a new window once the old one is over)."""
        expired = ThrottleCounter.window_start <= now - timedelta(seconds=window_seconds)
        statement = insert(ThrottleCounter).values(key=key, count=1, window_start=now, blocked_until=None)
        row = (
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[ThrottleCounter.key],
                    set_={
                        "count": sa.case((expired, 1), else_=ThrottleCounter.count + 1),
                        "window_start": sa.case((expired, now), else_=ThrottleCounter.window_start),
                        "blocked_until": sa.case((expired, None), else_=ThrottleCounter.blocked_until),
                    },
                ).returning(ThrottleCounter.count, ThrottleCounter.window_start, ThrottleCounter.blocked_until)
            )
        ).one()
        count, window_start, blocked_until = row
        return Counter(count, window_start + timedelta(seconds=window_seconds), blocked_until)

    def _limits_address(self, address: str) -> bool:
        return address not in self.policy.exempt_addresses

    async def admit_login(self, user_id: int | None, username: str, address: str) -> None:
        """Raise 429 unless this attempt may go on to the password check. Counts the attempt
        against the address's login rate."""
        policy = self.policy
        now = datetime.now(UTC)
        keys = {
            f"pair:{username} {address}": PAIR_WINDOW_SECONDS,
            f"user:{username}": HOUR,
            f"addr:{address}": policy.address_window_seconds,
        }
        async with self._sessions.begin() as session:
            counters = await self._read(session, keys, now)
            known = user_id is not None and bool(
                await session.scalar(
                    sa.select(sa.exists().where(KnownAddress.user_id == user_id, KnownAddress.address == address))
                )
            )
            attempts = (
                await self._bump(session, f"logins:{address}", 60, now) if self._limits_address(address) else None
            )
        pair = counters.get(f"pair:{username} {address}")
        if pair is not None and pair.blocked_until is not None and pair.blocked_until > now:
            raise too_many("too many failed logins for this account from this address", pair.blocked_until, now)
        if known:
            return
        user = counters.get(f"user:{username}")
        if user is not None and user.count >= policy.user_failures_per_hour:
            raise too_many(
                "too many failed logins for this account; only addresses it logged in from before may try",
                user.resets_at,
                now,
            )
        if not self._limits_address(address):
            return
        failures = counters.get(f"addr:{address}")
        if failures is not None and failures.count >= policy.address_failures:
            raise too_many("too many failed logins from this address", failures.resets_at, now)
        if attempts is not None and attempts.count > policy.address_logins_per_minute:
            raise too_many("too many logins from this address", attempts.resets_at, now)

    async def record_failure(self, username: str, address: str) -> None:
        await self._record_failure(f"pair:{username} {address}", f"user:{username}", address)

    async def _record_failure(self, pair_key: str, target_key: str, address: str) -> None:
        """One more failed guess of a pair (backing it off), of its target and of the address."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            pair = await self._bump(session, pair_key, PAIR_WINDOW_SECONDS, now)
            backoff = self.policy.pair_backoff_seconds(pair.count)
            if backoff:
                await session.execute(
                    sa.update(ThrottleCounter)
                    .where(ThrottleCounter.key == pair_key)
                    .values(blocked_until=now + timedelta(seconds=backoff))
                )
            await self._bump(session, target_key, HOUR, now)
            if self._limits_address(address):
                await self._bump(session, f"addr:{address}", self.policy.address_window_seconds, now)
            # Counters of guesses long over go here, where guessing creates them (indexed, cheap).
            cutoff = now - timedelta(seconds=PAIR_WINDOW_SECONDS)
            await session.execute(sa.delete(ThrottleCounter).where(ThrottleCounter.window_start < cutoff))

    async def admit_link_password(self, link_id: str, address: str) -> None:
        """A share link's password is guessed like a login: per (link, address) pair the same
        backoff, per link at most ``user_failures_per_hour`` failures from everywhere, and the
        address's failures count with its login failures."""
        now = datetime.now(UTC)
        keys = {
            f"linkpair:{link_id} {address}": PAIR_WINDOW_SECONDS,
            f"link:{link_id}": HOUR,
            f"addr:{address}": self.policy.address_window_seconds,
        }
        async with self._sessions() as session:
            counters = await self._read(session, keys, now)
        pair = counters.get(f"linkpair:{link_id} {address}")
        if pair is not None and pair.blocked_until is not None and pair.blocked_until > now:
            raise too_many("too many wrong passwords for this link from this address", pair.blocked_until, now)
        link = counters.get(f"link:{link_id}")
        if link is not None and link.count >= self.policy.user_failures_per_hour:
            raise too_many("too many wrong passwords for this link", link.resets_at, now)
        failures = counters.get(f"addr:{address}")
        if self._limits_address(address) and failures is not None and failures.count >= self.policy.address_failures:
            raise too_many("too many failed passwords from this address", failures.resets_at, now)

    async def record_link_failure(self, link_id: str, address: str) -> None:
        await self._record_failure(f"linkpair:{link_id} {address}", f"link:{link_id}", address)

    async def record_success(self, session: AsyncSession, user_id: int, username: str, address: str) -> None:
        """In the transaction that issues the token: the pair starts afresh, the address is known."""
        now = datetime.now(UTC)
        await session.execute(sa.delete(ThrottleCounter).where(ThrottleCounter.key == f"pair:{username} {address}"))
        statement = insert(KnownAddress).values(user_id=user_id, address=address, last_login_at=now)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[KnownAddress.user_id, KnownAddress.address], set_={"last_login_at": now}
            )
        )

    async def admit_registration(self, address: str) -> None:
        if not self._limits_address(address):
            return
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            counter = await self._bump(session, f"register:{address}", HOUR, now)
        if counter.count > self.policy.address_registrations_per_hour:
            raise too_many("too many registrations from this address", counter.resets_at, now)
