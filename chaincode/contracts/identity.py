"""Identity contract: users on chain (creation pays genesis in the same transaction)."""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import TransactionContext
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import genesis, ledger
from chaincode.contracts.base import (
    GxContract,
    check_country,
    check_id,
    check_uuid,
    need,
    run_command,
    run_query,
)
from chaincode.tx import Tx


class IdentityContract(GxContract):
    """Creates users (gx_admin: the identity service's KYC approval) and reads them."""

    Name = "identity"
    QUERIES = ("GetUser",)

    async def CreateUser(self, ctx: TransactionContext, request: str) -> str:
        """Creates a user and their wallet, and pays genesis in the same transaction when eligible (age..."""
        return await run_command(ctx, cmd.CreateUserRequest, request, _create_user)

    async def GetUser(self, ctx: TransactionContext, request: str) -> str:
        """Reads one user."""
        return await run_query(ctx, qry.GetUserRequest, request, _get_user)


async def _create_user(tx: Tx, request: cmd.CreateUserRequest) -> cmd.CreateUserResult:
    check_uuid(request.user_id, "user_id")
    check_country(request.country_code)
    birth = rules.parse_date(request.date_of_birth)
    need(birth <= rules.tx_date(tx.time.seconds), "INVALID_ARGUMENT", "date_of_birth is in the future")
    await ledger.require_bootstrapped(tx)
    country = await ledger.require_country(tx, request.country_code)
    need(await ledger.user(tx, request.user_id) is None, "USER_EXISTS", f"user {request.user_id} exists")
    need(
        await ledger.account(tx, request.user_id) is None,
        "ACCOUNT_EXISTS",
        f"account {request.user_id} exists",
    )
    user = res.User(
        user_id=request.user_id,
        country_code=request.country_code,
        date_of_birth=request.date_of_birth,
        status=res.USER_STATUS_ACTIVE,
        trust_score=rules.INITIAL_TRUST_SCORE,
    )
    user.create_time.CopyFrom(tx.time)
    await ledger.save_account(
        tx, ledger.new_account(tx, user.user_id, res.ACCOUNT_TYPE_USER, user.country_code)
    )
    country.user_count += 1
    ledger.save_country(tx, country)
    tx.emit(
        user_created=ev.UserCreated(
            user_id=user.user_id,
            country_code=user.country_code,
            date_of_birth=user.date_of_birth,
            trust_score=user.trust_score,
        )
    )
    outcome = await genesis.distribute(tx, user)
    ledger.save_user(tx, user)
    return cmd.CreateUserResult(
        user=user, account=await ledger.require_account(tx, user.user_id), genesis=outcome
    )


async def _get_user(tx: Tx, request: qry.GetUserRequest) -> qry.GetUserResult:
    check_id(request.user_id, "user_id")
    return qry.GetUserResult(user=await ledger.require_user(tx, request.user_id))
