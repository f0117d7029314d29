"""Governance use cases: submit, vote, execute (ledger commands) and the proposal read models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as ledger
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import governance_service_pb2 as svc
from gx.wallet.v1 import wallet_pb2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import ledger_rules as rules
from ledger_rules.errors import Rejection
from projector.tables import proposals, votes
from services.common import paging
from services.common.auth import Principal
from services.common.errors import NotFound
from services.wallet import convert, errors, ids, readmodels
from services.wallet.admin_audit import audited
from services.wallet.commands import CommandRecorder

_COMMAND = "SUBMIT_PROPOSAL"
_DEFAULT_PAGE = 50
_ROW = tuple(
    proposals.c[name]
    for name in (
        "proposal_id",
        "parameter",
        "value",
        "proposer_id",
        "votes_for",
        "votes_against",
        "status",
        "voting_end_time",
        "create_time",
        "close_time",
    )
)
_COLUMNS = ", ".join(column.name for column in _ROW)
# The ledger's ACTIVE is the API's OPEN: open for votes.
_STATES = {"ACTIVE": wallet_pb2.PROPOSAL_STATE_OPEN, "EXECUTED": wallet_pb2.PROPOSAL_STATE_EXECUTED,
           "REJECTED": wallet_pb2.PROPOSAL_STATE_REJECTED}  # fmt: skip
_STATUS_OF = {v: k for k, v in _STATES.items()}


def _not_found() -> NotFound:
    return NotFound("proposal not found", reason="PROPOSAL_NOT_FOUND")


def _proposal(row: Any, public_id: str) -> wallet_pb2.Proposal:
    out = wallet_pb2.Proposal(
        proposal_id=public_id,
        proposer_user_id=row.proposer_id or "",
        parameter=row.parameter,
        new_value=str(row.value),
        state=_STATES.get(row.status, wallet_pb2.PROPOSAL_STATE_UNSPECIFIED),
        votes_for=row.votes_for,
        votes_against=row.votes_against,
    )
    for field in ("voting_end_time", "create_time", "close_time"):
        ts = convert.timestamp(getattr(row, field))
        if ts is not None:
            getattr(out, field).CopyFrom(ts)
    return out


def _vote(row: Any, public_id: str) -> wallet_pb2.Vote:
    out = wallet_pb2.Vote(proposal_id=public_id, voter_user_id=row.voter_id, support=row.support)
    ts = convert.timestamp(row.time)
    if ts is not None:
        out.time.CopyFrom(ts)
    return out


async def _find(db: readmodels.Executor, public_id: str) -> Any | None:
    pid = await ids.ledger_id(db, public_id, _COMMAND)
    return (await db.execute(select(*_ROW).where(proposals.c.proposal_id == pid))).first()


def _open(row: Any) -> bool:
    return row.status == "ACTIVE" and (row.voting_end_time is None or datetime.now(UTC) < row.voting_end_time)


class GovernanceUseCases:
    """SubmitProposal, CastVote, ExecuteProposal, GetProposal, ListProposals, ListVotes."""

    def __init__(self, engine: AsyncEngine, recorder: CommandRecorder) -> None:
        """Wires the use cases over the engine and the command recorder."""
        self._engine = engine
        self._recorder = recorder

    async def submit(
        self, principal: Principal, request: svc.SubmitProposalRequest
    ) -> operation_pb2.Operation:
        """SUBMIT_PROPOSAL by an on-chain admin, for a known parameter and an in-range value."""
        try:
            value = int(request.new_value.strip())
        except ValueError:
            raise errors.bad_field("new_value", "must be a whole number") from None
        try:
            rules.check_parameter(request.parameter, value)
        except Rejection as exc:
            if exc.reason == "UNKNOWN_PARAMETER":
                raise NotFound(exc.detail, reason="PARAMETER_NOT_FOUND") from None
            raise errors.bad_field("new_value", exc.detail, exc.reason) from None

        async def build(session: AsyncSession, rid: str) -> Message:
            proposer = await readmodels.user(session, principal.user_id)
            if proposer is None or not proposer.admin:
                raise errors.precondition(
                    "NOT_AN_ONCHAIN_ADMIN", "proposing needs an admin appointed on the ledger"
                )
            return ledger.SubmitProposalRequest(
                parameter=request.parameter,
                value=value,
                # The ledger wants a title; the API's proposal is fully described by these two.
                title=f"Set {request.parameter} to {value}",
                proposer_id=principal.user_id,
                request_id=rid,
            )

        return await self._recorder.record(
            scope="wallet.SubmitProposal",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_SUBMIT_PROPOSAL,
            build=audited("wallet.SubmitProposal", request, build),
        )

    async def vote(self, principal: Principal, request: svc.CastVoteRequest) -> operation_pb2.Operation:
        """CAST_VOTE by an active ledger user, once, while voting is open."""

        async def build(session: AsyncSession, rid: str) -> Message:
            proposal = await _find(session, request.proposal_id)
            if proposal is None:
                raise _not_found()
            if not _open(proposal):
                raise errors.precondition("VOTING_CLOSED", "voting on this proposal has ended")
            voter = await readmodels.user(session, principal.user_id)
            if voter is None or voter.status != "ACTIVE":
                raise errors.precondition(errors.WALLET_NOT_ACTIVE, "only active ledger users vote")
            voted = await session.execute(
                select(votes.c.voter_id).where(
                    votes.c.proposal_id == proposal.proposal_id, votes.c.voter_id == principal.user_id
                )
            )
            if voted.first() is not None:
                raise errors.precondition("ALREADY_VOTED", "you voted on this proposal already")
            return ledger.CastVoteRequest(
                proposal_id=proposal.proposal_id,
                voter_id=principal.user_id,
                support=request.support,
                request_id=rid,
            )

        return await self._recorder.record(
            scope="wallet.CastVote",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_CAST_VOTE,
            build=build,
        )

    async def execute(
        self, principal: Principal, request: svc.ExecuteProposalRequest
    ) -> operation_pb2.Operation:
        """EXECUTE_PROPOSAL of an open proposal whose voting has ended."""

        async def build(session: AsyncSession, rid: str) -> Message:
            proposal = await _find(session, request.proposal_id)
            if proposal is None:
                raise _not_found()
            if proposal.status != "ACTIVE":
                raise errors.precondition("PROPOSAL_CLOSED", "the proposal was decided already")
            if _open(proposal):
                raise errors.precondition("VOTING_OPEN", "voting on this proposal is still open")
            return ledger.ExecuteProposalRequest(proposal_id=proposal.proposal_id, request_id=rid)

        return await self._recorder.record(
            scope="wallet.ExecuteProposal",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_EXECUTE_PROPOSAL,
            build=audited("wallet.ExecuteProposal", request, build),
        )

    async def get(self, principal: Principal, proposal_id: str) -> svc.GetProposalResponse:
        """A proposal, with the caller's vote if they cast one."""
        async with self._engine.connect() as conn:
            proposal = await _find(conn, proposal_id)
            if proposal is None:
                raise _not_found()
            public = (await ids.public_ids(conn, [proposal.proposal_id], _COMMAND))[proposal.proposal_id]
            v = votes.c
            mine = (
                await conn.execute(
                    select(v.voter_id, v.support, v.time).where(
                        v.proposal_id == proposal.proposal_id, v.voter_id == principal.user_id
                    )
                )
            ).first()
        response = svc.GetProposalResponse(proposal=_proposal(proposal, public))
        if mine is not None:
            response.my_vote.CopyFrom(_vote(mine, public))
        return response

    async def list(self, request: svc.ListProposalsRequest) -> svc.ListProposalsResponse:
        """Proposals newest first, optionally in one state."""
        status = _STATUS_OF.get(request.state, "")
        page = paging.request(
            request.page_size, request.page_token, f"proposals|{status}", default=_DEFAULT_PAGE
        )
        clauses: list[str] = ["true"]
        params: dict[str, Any] = {"limit": page.limit}
        if status:
            clauses.append("status = :s")
            params["s"] = status
        if (after := page.after_clause("create_time, proposal_id", params)) is not None:
            clauses.append(after)
        sql = (
            f"SELECT {_COLUMNS} FROM ledger.proposals WHERE {' AND '.join(clauses)}"
            " ORDER BY create_time DESC, proposal_id DESC LIMIT :limit"
        )
        async with self._engine.connect() as conn:
            rows, token = page.finish(
                (await conn.execute(text(sql), params)).all(), lambda r: (r.create_time, r.proposal_id)
            )
            public = await ids.public_ids(conn, [r.proposal_id for r in rows], _COMMAND)
        return svc.ListProposalsResponse(
            proposals=[_proposal(r, public[r.proposal_id]) for r in rows], next_page_token=token
        )

    async def votes(self, request: svc.ListVotesRequest) -> svc.ListVotesResponse:
        """A proposal's votes in the order they were committed."""
        async with self._engine.connect() as conn:
            proposal = await _find(conn, request.proposal_id)
            if proposal is None:
                raise _not_found()
            # In commit order (oldest first).
            page = paging.request(
                request.page_size,
                request.page_token,
                f"votes|{proposal.proposal_id}",
                default=_DEFAULT_PAGE,
                descending=False,
            )
            params: dict[str, Any] = {"p": proposal.proposal_id, "limit": page.limit}
            where = "proposal_id = :p"
            if (after := page.after_clause("block_number, voter_id", params)) is not None:
                where += f" AND {after}"
            rows = list(
                (
                    await conn.execute(
                        text(
                            "SELECT voter_id, support, time, block_number FROM ledger.votes"
                            f" WHERE {where} ORDER BY block_number, voter_id LIMIT :limit"
                        ),
                        params,
                    )
                ).all()
            )
            public = (await ids.public_ids(conn, [proposal.proposal_id], _COMMAND))[proposal.proposal_id]
        rows, token = page.finish(rows, lambda r: (r.block_number, r.voter_id))
        return svc.ListVotesResponse(votes=[_vote(r, public) for r in rows], next_page_token=token)
