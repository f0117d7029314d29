"""Admin contract: bootstrap, countries, parameters, pause/resume, admins, treasuries, system queries."""

from __future__ import annotations

import json

from fabric_chaincode_python.fabric_contract_api import TransactionContext
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import codec, ledger
from chaincode.contracts.base import (
    GxContract,
    check_country,
    check_id,
    check_text,
    need,
    run_command,
    run_query,
)
from chaincode.errors import NotFound
from chaincode.tx import Tx
from ledger_rules.errors import Rejection


class AdminContract(GxContract):
    """System-wide functions; all state changes need gx_super_admin, except ActivateTreasury (gx_admin)."""

    Name = "admin"
    QUERIES = ("GetSystemStatus", "GetCountry", "ListCountries", "GetRequest")

    async def BootstrapSystem(self, ctx: TransactionContext, request: str) -> str:
        """Mints the fixed supply (1.25 T GX) into the six system pools and pins the system parameters, once."""
        return await run_command(ctx, cmd.BootstrapSystemRequest, request, _bootstrap)

    async def InitializeCountries(self, ctx: TransactionContext, request: str) -> str:
        """Records countries with their population shares and creates each country's locked treasury."""
        return await run_command(ctx, cmd.InitializeCountriesRequest, request, _initialize_countries)

    async def UpdateSystemParameter(self, ctx: TransactionContext, request: str) -> str:
        """Sets a system parameter directly, within its bounds (the governance path is SubmitProposal)."""
        return await run_command(ctx, cmd.UpdateSystemParameterRequest, request, _update_parameter)

    async def PauseSystem(self, ctx: TransactionContext, request: str) -> str:
        """Pauses value movement (transfers, genesis, multisig execution, loan disbursement, velocity tax)."""
        return await run_command(ctx, cmd.PauseSystemRequest, request, _pause)

    async def ResumeSystem(self, ctx: TransactionContext, request: str) -> str:
        """Resumes a paused system."""
        return await run_command(ctx, cmd.ResumeSystemRequest, request, _resume)

    async def AppointAdmin(self, ctx: TransactionContext, request: str) -> str:
        """Marks an active user as an on-chain admin."""
        return await run_command(ctx, cmd.AppointAdminRequest, request, _appoint_admin)

    async def ActivateTreasury(self, ctx: TransactionContext, request: str) -> str:
        """Unlocks a country's treasury so it can send (TransferTokens by a gx_admin submitter)."""
        return await run_command(ctx, cmd.ActivateTreasuryRequest, request, _activate_treasury)

    async def GetSystemStatus(self, ctx: TransactionContext, request: str) -> str:
        """Reads the global state, the pools and the parameters."""
        return await run_query(ctx, qry.GetSystemStatusRequest, request, _system_status)

    async def GetCountry(self, ctx: TransactionContext, request: str) -> str:
        """Reads one country and its genesis progress."""
        return await run_query(ctx, qry.GetCountryRequest, request, _get_country)

    async def ListCountries(self, ctx: TransactionContext, request: str) -> str:
        """Lists every initialised country in code order."""
        return await run_query(ctx, qry.ListCountriesRequest, request, _list_countries)

    async def GetRequest(self, ctx: TransactionContext, request: str) -> str:
        """Tells whether a request id was applied, and its result."""
        return await run_query(ctx, qry.GetRequestRequest, request, _get_request)


async def _bootstrap(tx: Tx, request: cmd.BootstrapSystemRequest) -> cmd.BootstrapSystemResult:
    status = await ledger.system(tx)
    need(not status.bootstrapped, "ALREADY_BOOTSTRAPPED", "the supply was minted already; it is minted once")
    pools = []
    for pool_id, amount in rules.POOLS:
        need(await ledger.account(tx, pool_id) is None, "ALREADY_BOOTSTRAPPED", f"{pool_id} exists")
        acct = ledger.new_account(tx, pool_id, res.ACCOUNT_TYPE_SYSTEM_POOL, balance=amount)
        await ledger.save_account(tx, acct)
        pools.append(acct)
    status.bootstrapped = True
    status.total_supply_qirat = rules.TOTAL_SUPPLY
    ledger.save_system(tx, status)
    # Pin every parameter on chain and announce it: the read models learn the values in force
    # from the start, and a later change of a default in the code cannot silently change a
    # running ledger. A value set before bootstrap (UpdateSystemParameter does not wait for it) is kept.
    parameters = []
    for name in sorted(rules.PARAMETERS):
        value = await ledger.param(tx, name)
        await ledger.set_param(tx, name, value)
        parameters.append(res.SystemParameter(name=name, value=value))
    tx.emit(
        system_bootstrapped=ev.SystemBootstrapped(
            total_supply_qirat=rules.TOTAL_SUPPLY, pools=pools, parameters=parameters
        )
    )
    return cmd.BootstrapSystemResult(total_supply_qirat=rules.TOTAL_SUPPLY, pools=pools)


async def _initialize_countries(
    tx: Tx, request: cmd.InitializeCountriesRequest
) -> cmd.InitializeCountriesResult:
    need(len(request.countries) > 0, "INVALID_ARGUMENT", "countries must not be empty")
    status = await ledger.system(tx)
    seen: set[str] = set()
    added = 0
    for entry in request.countries:
        check_country(entry.country_code)
        check_text(entry.name, "name", 100)
        need(
            1 <= entry.share_bps <= rules.TOTAL_SHARE_BPS,
            "INVALID_ARGUMENT",
            f"{entry.country_code}: share_bps must be within [1, 10000]",
        )
        need(entry.country_code not in seen, "INVALID_ARGUMENT", f"{entry.country_code} is listed twice")
        seen.add(entry.country_code)
        need(
            await ledger.country(tx, entry.country_code) is None,
            "COUNTRY_EXISTS",
            f"{entry.country_code} was initialised already",
        )
        status.total_share_bps += entry.share_bps
        need(
            rules.shares_fit(status.total_share_bps),
            rules.SHARES_EXCEED_TOTAL,
            f"country shares would sum to {status.total_share_bps} basis points (> 10000)",
        )
        treasury = ledger.treasury_id(entry.country_code)
        ledger.save_country(
            tx,
            res.Country(
                country_code=entry.country_code,
                name=entry.name,
                share_bps=entry.share_bps,
                genesis_phase=1,
                treasury_account_id=treasury,
            ),
        )
        # A treasury is locked (frozen) until ActivateTreasury; it still receives genesis shares.
        acct = ledger.new_account(tx, treasury, res.ACCOUNT_TYPE_TREASURY, entry.country_code)
        acct.frozen = True
        await ledger.save_account(tx, acct)
        tx.emit(
            country_initialized=ev.CountryInitialized(
                country_code=entry.country_code,
                name=entry.name,
                share_bps=entry.share_bps,
                treasury_account_id=treasury,
            )
        )
        added += 1
    status.country_count += added
    ledger.save_system(tx, status)
    return cmd.InitializeCountriesResult(country_count=added, total_share_bps=status.total_share_bps)


async def _update_parameter(
    tx: Tx, request: cmd.UpdateSystemParameterRequest
) -> cmd.UpdateSystemParameterResult:
    rules.check_parameter(request.parameter, request.value)
    previous = await ledger.set_param(tx, request.parameter, request.value)
    tx.emit(
        system_parameter_updated=ev.SystemParameterUpdated(
            parameter=request.parameter,
            value=request.value,
            previous_value=previous,
        )
    )
    return cmd.UpdateSystemParameterResult(
        parameter=res.SystemParameter(name=request.parameter, value=request.value),
        previous_value=previous,
    )


async def _pause(tx: Tx, request: cmd.PauseSystemRequest) -> cmd.PauseSystemResult:
    check_text(request.reason, "reason", 500)
    status = await ledger.system(tx)
    need(not status.paused, "ALREADY_PAUSED", f"the system is paused already: {status.pause_reason}")
    status.paused = True
    status.pause_reason = request.reason
    ledger.save_system(tx, status)
    tx.emit(system_paused=ev.SystemPaused(reason=request.reason))
    return cmd.PauseSystemResult(paused=True, reason=request.reason)


async def _resume(tx: Tx, request: cmd.ResumeSystemRequest) -> cmd.ResumeSystemResult:
    status = await ledger.system(tx)
    need(status.paused, "NOT_PAUSED", "the system is not paused")
    status.paused = False
    status.pause_reason = ""
    ledger.save_system(tx, status)
    tx.emit(system_resumed=ev.SystemResumed())
    return cmd.ResumeSystemResult(paused=False)


async def _appoint_admin(tx: Tx, request: cmd.AppointAdminRequest) -> cmd.AppointAdminResult:
    check_id(request.user_id, "user_id")
    check_id(request.appointed_by, "appointed_by")
    need(request.user_id != request.appointed_by, "SELF_APPOINTMENT", "an admin cannot appoint themself")
    found = await ledger.require_user(tx, request.user_id)
    need(not found.admin, "ALREADY_ADMIN", f"user {request.user_id} is an admin already")
    found.admin = True
    ledger.save_user(tx, found)
    tx.emit(admin_appointed=ev.AdminAppointed(user_id=request.user_id, appointed_by=request.appointed_by))
    return cmd.AppointAdminResult(user=found)


async def _activate_treasury(tx: Tx, request: cmd.ActivateTreasuryRequest) -> cmd.ActivateTreasuryResult:
    check_country(request.country_code)
    found = await ledger.require_country(tx, request.country_code)
    need(
        not found.treasury_active, "TREASURY_ACTIVE", f"treasury of {request.country_code} is active already"
    )
    found.treasury_active = True
    ledger.save_country(tx, found)
    acct = await ledger.require_account(tx, found.treasury_account_id)
    acct.frozen = False
    await ledger.save_account(tx, acct)
    tx.emit(
        treasury_activated=ev.TreasuryActivated(
            country_code=found.country_code,
            treasury_account_id=found.treasury_account_id,
        )
    )
    return cmd.ActivateTreasuryResult(country=found, account=acct)


async def _all_countries(tx: Tx) -> list[res.Country]:
    prefix = ledger.country_key("")
    return [codec.parse(v, res.Country) for _, v in await tx.range(prefix, ledger.prefix_end(prefix))]


async def _system_status(tx: Tx, request: qry.GetSystemStatusRequest) -> qry.GetSystemStatusResult:
    status = await ledger.system(tx)
    for pool_id, _ in rules.POOLS:
        acct = await ledger.account(tx, pool_id)
        if acct is not None:
            status.pools.append(await ledger.with_balance(tx, acct))
    # The record holds the parameters set so far; the answer lists every one, defaults included.
    del status.parameters[:]
    for name in sorted(rules.PARAMETERS):
        status.parameters.append(res.SystemParameter(name=name, value=await ledger.param(tx, name)))
    status.user_count = sum(c.user_count for c in await _all_countries(tx))
    return qry.GetSystemStatusResult(status=status)


async def _get_country(tx: Tx, request: qry.GetCountryRequest) -> qry.GetCountryResult:
    return qry.GetCountryResult(country=await ledger.require_country(tx, request.country_code))


async def _list_countries(tx: Tx, request: qry.ListCountriesRequest) -> qry.ListCountriesResult:
    return qry.ListCountriesResult(countries=await _all_countries(tx))


async def _get_request(tx: Tx, request: qry.GetRequestRequest) -> qry.GetRequestResult:
    check_id(request.request_id, "request_id")
    raw = await tx.get(ledger.request_key(request.request_id))
    if raw is None:
        raise NotFound("request", request.request_id)
    record = json.loads(raw)
    if not isinstance(record, dict):
        raise Rejection("CORRUPT_STATE", "request record is not an object", 500)
    return qry.GetRequestResult(
        function=record["function"], result_json=record["result"], tx_id=record["txId"]
    )
