"""System administration use cases: each checks the read models and records one ledger command."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as ledger
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import admin_service_pb2 as svc
from gx.wallet.v1 import wallet_pb2
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import ledger_rules as rules
from ledger_rules.errors import Rejection
from services.common import ordering, outbox, paging
from services.common.auth import Principal
from services.common.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.wallet import convert, errors, readmodels
from services.wallet.admin_audit import audited
from services.wallet.commands import CommandRecorder
from services.wallet.countries import shipped_countries

_COUNTRY_PAGE = 300


def _not_found(reason: str, message: str) -> NotFound:
    return NotFound(message, reason=reason)


async def _recorded(
    session: AsyncSession, command_type: int, key: str | None = None
) -> outbox.Prerequisite | None:
    """A prerequisite the read models do not show yet but the outbox holds (not FAILED).

    Pre-checks refuse only when a prerequisite is absent or has failed: one that is recorded
    but not yet committed (or committed but not yet projected) is accepted, so commands recorded
    back to back (bootstrap, countries, KYC approvals) all go through. The outbox orders them by
    their keys and fails the dependent PREREQUISITE_FAILED, naming the prerequisite, if it fails.
    """
    return await outbox.find_prerequisite(session, command_type, key=key)


async def _switch_on_its_way(
    session: AsyncSession, on: int, off: int, key: str | None = None
) -> tuple[bool | None, outbox.Prerequisite | None]:
    """The newest recorded command of an on/off pair (pause/resume, freeze/unfreeze) whose effect
    the read models do not show yet: (the state it sets, the command), or (None, None).

    So a resume recorded right after a pause is accepted (the system will be paused by then),
    and a second pause right after the first is refused as ALREADY_PAUSED.
    """
    found = [
        (value, pending)
        for value, command_type in ((True, on), (False, off))
        if (pending := await _recorded(session, command_type, key)) is not None
        and pending.ahead_of_read_models
    ]
    if not found:
        return None, None
    return max(found, key=lambda item: item[1].seq)


def _after(payload: Message, prerequisite: outbox.Prerequisite | None) -> outbox.Dependent:
    """The payload, recorded as depending on an in-flight prerequisite (if any)."""
    in_flight = prerequisite is not None and prerequisite.in_flight
    return outbox.Dependent(payload, prerequisite.command_id if in_flight and prerequisite else None)


class AdminUseCases:
    """BootstrapSystem, InitializeCountries, parameters, pause/resume, admins, treasuries, genesis, freezes."""

    def __init__(self, engine: AsyncEngine, recorder: CommandRecorder, countries_file: Path) -> None:
        """Wires the use cases.

        Args:
            engine: The database engine (read models).
            recorder: Records ledger commands idempotently.
            countries_file: The shipped country table, used when InitializeCountries has no list.
        """
        self._engine = engine
        self._recorder = recorder
        self._countries_file = countries_file

    async def _command(
        self,
        rpc: str,
        principal: Principal,
        request: Message,
        command_type: int,
        build: Callable[[AsyncSession, str], object],
    ) -> operation_pb2.Operation:
        return await self._recorder.record(
            scope=f"wallet.Admin.{rpc}",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_type,
            # Every admin command leaves an audit row in its own transaction.
            build=audited(f"wallet.{rpc}", request, build),  # type: ignore[arg-type]
        )

    async def bootstrap(
        self, principal: Principal, request: svc.BootstrapSystemRequest
    ) -> operation_pb2.Operation:
        """BOOTSTRAP_SYSTEM, unless the read models show it done."""

        async def build(session: AsyncSession, rid: str) -> Message:
            if (await readmodels.system_state(session)).bootstrapped:
                raise errors.precondition("ALREADY_BOOTSTRAPPED", "the system was bootstrapped already")
            pending = await _recorded(session, command_pb2.COMMAND_TYPE_BOOTSTRAP_SYSTEM)
            if pending is not None:
                raise errors.precondition(
                    "ALREADY_BOOTSTRAPPED",
                    f"a bootstrap is already recorded (operations/{pending.command_id}, {pending.status})",
                    operation=f"operations/{pending.command_id}",
                )
            return ledger.BootstrapSystemRequest(request_id=rid)

        return await self._command(
            "BootstrapSystem", principal, request, command_pb2.COMMAND_TYPE_BOOTSTRAP_SYSTEM, build
        )

    def _countries(self, given: Sequence[svc.CountryShare]) -> list[ledger.CountryShare]:
        shipped = shipped_countries(self._countries_file)
        if not given:
            return [
                ledger.CountryShare(country_code=c.country_code, name=c.name, share_bps=c.share_bps)
                for c in shipped
            ]
        names = {c.country_code: c.name for c in shipped}
        seen: set[str] = set()
        violations: list[FieldViolation] = []
        out: list[ledger.CountryShare] = []
        for index, entry in enumerate(given):
            if entry.country_code in seen:
                violations.append(FieldViolation(f"countries[{index}].country_code", "listed twice"))
            seen.add(entry.country_code)
            # The ledger needs a name; the shipped table knows it for every real code.
            name = entry.name or names.get(entry.country_code, entry.country_code)
            out.append(
                ledger.CountryShare(
                    country_code=entry.country_code, name=name, share_bps=entry.population_share_bps
                )
            )
        if violations:
            raise InvalidArgument(violations=violations)
        return out

    async def initialize_countries(
        self, principal: Principal, request: svc.InitializeCountriesRequest
    ) -> operation_pb2.Operation:
        """INITIALIZE_COUNTRY with the given list, or the shipped table when it is empty."""
        countries = self._countries(request.countries)

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            state = await readmodels.system_state(session)
            bootstrap = None
            if not state.bootstrapped:
                bootstrap = await _recorded(session, command_pb2.COMMAND_TYPE_BOOTSTRAP_SYSTEM)
                if bootstrap is None:
                    raise errors.precondition(errors.SYSTEM_NOT_BOOTSTRAPPED, "bootstrap the system first")
            existing = await readmodels.country_shares(session)
            taken = [c.country_code for c in countries if c.country_code in existing]
            for c in countries:
                if c.country_code not in existing and await _recorded(
                    session,
                    command_pb2.COMMAND_TYPE_INITIALIZE_COUNTRY,
                    ordering.key("country", c.country_code),
                ):
                    taken.append(c.country_code)  # on its way to the ledger already
            if taken:
                raise errors.precondition(
                    "COUNTRY_EXISTS",
                    f"already initialised: {', '.join(taken[:10])}",
                    country_codes=",".join(taken),
                )
            total = sum(existing.values()) + sum(c.share_bps for c in countries)
            if not rules.shares_fit(total):
                raise errors.bad_field(
                    "countries",
                    f"the shares would sum to {total} basis points (at most 10000)",
                    rules.SHARES_EXCEED_TOTAL,
                )
            return _after(ledger.InitializeCountriesRequest(countries=countries, request_id=rid), bootstrap)

        return await self._command(
            "InitializeCountries", principal, request, command_pb2.COMMAND_TYPE_INITIALIZE_COUNTRY, build
        )

    async def update_parameter(
        self, principal: Principal, request: svc.UpdateSystemParameterRequest
    ) -> operation_pb2.Operation:
        """UPDATE_SYSTEM_PARAMETER after the chaincode's own bounds check."""
        try:
            value = int(request.value.strip())
        except ValueError:
            raise errors.bad_field("value", "must be a whole number") from None
        try:
            rules.check_parameter(request.name, value)
        except Rejection as exc:
            if exc.reason == "UNKNOWN_PARAMETER":
                raise _not_found("PARAMETER_NOT_FOUND", exc.detail) from None
            raise errors.bad_field("value", exc.detail, exc.reason) from None

        async def build(session: AsyncSession, rid: str) -> Message:
            return ledger.UpdateSystemParameterRequest(parameter=request.name, value=value, request_id=rid)

        return await self._command(
            "UpdateSystemParameter",
            principal,
            request,
            command_pb2.COMMAND_TYPE_UPDATE_SYSTEM_PARAMETER,
            build,
        )

    async def pause(self, principal: Principal, request: svc.PauseSystemRequest) -> operation_pb2.Operation:
        """PAUSE_SYSTEM, unless already paused."""

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            paused, pending = await self._paused_after_recorded(session)
            if paused:
                raise errors.precondition("ALREADY_PAUSED", "the system is paused already")
            return _after(ledger.PauseSystemRequest(reason=request.reason, request_id=rid), pending)

        return await self._command(
            "PauseSystem", principal, request, command_pb2.COMMAND_TYPE_PAUSE_SYSTEM, build
        )

    async def resume(self, principal: Principal, request: svc.ResumeSystemRequest) -> operation_pb2.Operation:
        """RESUME_SYSTEM, unless not paused."""

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            paused, pending = await self._paused_after_recorded(session)
            if not paused:
                raise errors.precondition("NOT_PAUSED", "the system is not paused")
            return _after(ledger.ResumeSystemRequest(request_id=rid), pending)

        return await self._command(
            "ResumeSystem", principal, request, command_pb2.COMMAND_TYPE_RESUME_SYSTEM, build
        )

    @staticmethod
    async def _paused_after_recorded(session: AsyncSession) -> tuple[bool, outbox.Prerequisite | None]:
        """Whether the system will be paused once the recorded pause/resume commands ran."""
        switch, pending = await _switch_on_its_way(
            session, command_pb2.COMMAND_TYPE_PAUSE_SYSTEM, command_pb2.COMMAND_TYPE_RESUME_SYSTEM
        )
        if switch is None:
            return (await readmodels.system_state(session)).paused, None
        return switch, pending

    async def _frozen_after_recorded(
        self, session: AsyncSession, wallet_id: str
    ) -> tuple[bool, outbox.Prerequisite | None]:
        """Whether the wallet will be frozen once the recorded freeze/unfreeze commands ran."""
        frozen = (await self._freezable(session, wallet_id)).frozen
        switch, pending = await _switch_on_its_way(
            session,
            command_pb2.COMMAND_TYPE_FREEZE_WALLET,
            command_pb2.COMMAND_TYPE_UNFREEZE_WALLET,
            ordering.key("account", wallet_id),
        )
        return (frozen, None) if switch is None else (switch, pending)

    async def appoint_admin(
        self, principal: Principal, request: svc.AppointAdminRequest
    ) -> operation_pb2.Operation:
        """APPOINT_ADMIN for a ledger user other than the caller."""
        target = str(request.user_id).lower()
        if target == principal.user_id:
            raise PermissionDenied("an admin cannot appoint themself", reason="SELF_APPOINTMENT")

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            found = await readmodels.user(session, target)
            payload = ledger.AppointAdminRequest(
                user_id=target, appointed_by=principal.user_id, request_id=rid
            )
            if found is None:
                return _after(payload, await self._user_on_its_way(session, target))
            if found.admin:
                raise errors.precondition("ALREADY_ADMIN", "the user is an admin already")
            return payload

        return await self._command(
            "AppointAdmin", principal, request, command_pb2.COMMAND_TYPE_APPOINT_ADMIN, build
        )

    async def activate_treasury(
        self, principal: Principal, request: svc.ActivateTreasuryRequest
    ) -> operation_pb2.Operation:
        """ACTIVATE_TREASURY of an initialised country whose treasury is locked."""

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            found = await readmodels.country(session, request.country_code)
            payload = ledger.ActivateTreasuryRequest(country_code=request.country_code, request_id=rid)
            if found is None:
                pending = await _recorded(
                    session,
                    command_pb2.COMMAND_TYPE_INITIALIZE_COUNTRY,
                    ordering.key("country", request.country_code),
                )
                if pending is None:
                    raise _not_found("COUNTRY_NOT_FOUND", f"{request.country_code} is not initialised")
                return _after(payload, pending)
            if found.treasury_active:
                raise errors.precondition("TREASURY_ACTIVE", "the treasury is active already")
            return payload

        return await self._command(
            "ActivateTreasury", principal, request, command_pb2.COMMAND_TYPE_ACTIVATE_TREASURY, build
        )

    async def distribute_genesis(
        self, principal: Principal, request: svc.DistributeGenesisRequest
    ) -> operation_pb2.Operation:
        """DISTRIBUTE_GENESIS to a ledger user who has not received it."""
        target = str(request.user_id).lower()

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            found = await readmodels.user(session, target)
            if found is None:
                pending = await self._user_on_its_way(session, target)
                return _after(ledger.DistributeGenesisRequest(user_id=target, request_id=rid), pending)
            if found.genesis_received:
                raise errors.precondition("GENESIS_ALREADY_RECEIVED", "the user received genesis already")
            if (await readmodels.system_state(session)).paused:
                raise errors.precondition(errors.SYSTEM_PAUSED, "the system is paused")
            return ledger.DistributeGenesisRequest(user_id=target, request_id=rid)

        return await self._command(
            "DistributeGenesis", principal, request, command_pb2.COMMAND_TYPE_DISTRIBUTE_GENESIS, build
        )

    @staticmethod
    async def _user_on_its_way(session: AsyncSession, user_id: str) -> outbox.Prerequisite:
        """The recorded CREATE_USER of a user the read models do not have yet, or USER_NOT_FOUND."""
        pending = await _recorded(
            session, command_pb2.COMMAND_TYPE_CREATE_USER, ordering.key("account", user_id)
        )
        if pending is None:
            raise _not_found("USER_NOT_FOUND", "no such user on the ledger")
        return pending

    async def _freezable(self, session: AsyncSession, wallet_id: str) -> readmodels.Account:
        found = await readmodels.account(session, wallet_id)
        if found is None or found.account_type not in ("USER", "ORGANIZATION"):
            raise errors.wallet_not_found()
        return found

    async def freeze(self, principal: Principal, request: svc.FreezeWalletRequest) -> operation_pb2.Operation:
        """FREEZE_WALLET of a user or organisation wallet that is not frozen."""
        wallet_id = str(request.wallet_id).lower()

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            frozen, pending = await self._frozen_after_recorded(session, wallet_id)
            if frozen:
                raise errors.precondition("ALREADY_FROZEN", "the wallet is frozen already")
            return _after(
                ledger.FreezeWalletRequest(account_id=wallet_id, reason=request.reason, request_id=rid),
                pending,
            )

        return await self._command(
            "FreezeWallet", principal, request, command_pb2.COMMAND_TYPE_FREEZE_WALLET, build
        )

    async def unfreeze(
        self, principal: Principal, request: svc.UnfreezeWalletRequest
    ) -> operation_pb2.Operation:
        """UNFREEZE_WALLET of a frozen wallet."""
        wallet_id = str(request.wallet_id).lower()

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            frozen, pending = await self._frozen_after_recorded(session, wallet_id)
            if not frozen:
                raise errors.precondition("NOT_FROZEN", "the wallet is not frozen")
            return _after(ledger.UnfreezeWalletRequest(account_id=wallet_id, request_id=rid), pending)

        return await self._command(
            "UnfreezeWallet", principal, request, command_pb2.COMMAND_TYPE_UNFREEZE_WALLET, build
        )

    async def system_status(self) -> svc.GetSystemStatusResponse:
        """The system as the read models know it; every parameter with its current value."""
        async with self._engine.connect() as conn:
            data = await readmodels.system_overview(conn)
        status, counts = data["status"], data["counts"]
        changed = {p.name: p for p in data["parameters"]}
        out = wallet_pb2.SystemStatus(
            bootstrapped=bool(status and status.bootstrapped),
            paused=bool(status and status.paused),
            pause_reason=status.pause_reason if status else "",
            total_supply_qirat=status.total_supply_qirat if status else 0,
            circulating_supply_qirat=int(counts.circulating),
            country_count=int(counts.countries),
            user_count=int(counts.users),
            block_number=int(counts.block_number or 0),
        )
        for name in sorted(set(rules.PARAMETERS) | set(changed)):
            row = changed.get(name)
            param = wallet_pb2.SystemParameter(
                name=name, value=str(row.value if row is not None else rules.PARAMETERS[name].default)
            )
            ts = convert.timestamp(row.update_time if row is not None else None)
            if ts is not None:
                param.update_time.CopyFrom(ts)
            out.parameters.append(param)
        out.pools.extend(
            wallet_pb2.Pool(account_id=p.wallet_id, balance_qirat=p.balance_qirat) for p in data["pools"]
        )
        ts = convert.timestamp(counts.update_time)
        if ts is not None:
            out.update_time.CopyFrom(ts)
        return svc.GetSystemStatusResponse(system_status=out)

    async def list_countries(self, request: svc.ListCountriesRequest) -> svc.ListCountriesResponse:
        """A page of countries by code."""
        page = paging.request(
            request.page_size, request.page_token, "countries", default=_COUNTRY_PAGE, descending=False
        )
        cursor = page.cursor(1)
        if cursor is not None and not isinstance(cursor[0], str):
            raise errors.bad_field("page_token", "the page token is malformed", errors.INVALID_PAGE_TOKEN)
        async with self._engine.connect() as conn:
            found = await readmodels.countries_page(conn, cursor[0] if cursor else None, page.limit)
        rows, token = page.finish(found, lambda r: (r.country_code,))
        return svc.ListCountriesResponse(countries=[convert.country(r) for r in rows], next_page_token=token)

    async def get_treasury(self, request: svc.GetTreasuryRequest) -> svc.GetTreasuryResponse:
        """A country's treasury account."""
        async with self._engine.connect() as conn:
            found = await readmodels.country(conn, request.country_code)
        if found is None:
            raise _not_found("COUNTRY_NOT_FOUND", f"{request.country_code} is not initialised")
        return svc.GetTreasuryResponse(treasury=convert.treasury(found))
