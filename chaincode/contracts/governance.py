"""Governance contract: 14-day votes with quorum and majority that set system parameters."""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import TransactionContext
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import ledger
from chaincode.contracts.base import GxContract, check_id, check_text, need, run_command, run_query
from chaincode.errors import NotFound
from chaincode.tx import Tx

_DAY_SECONDS = 86_400


def _proposal_key(proposal_id: str) -> str:
    return f"prop~{proposal_id}"


def _active_key(parameter: str) -> str:
    return f"propactive~{parameter}"


def _vote_key(proposal_id: str, voter_id: str) -> str:
    return f"vote~{proposal_id}~{voter_id}"


class GovernanceContract(GxContract):
    """Admins propose, users vote (one vote each), admins close the vote after its window."""

    Name = "governance"
    QUERIES = ("GetProposal",)

    async def SubmitProposal(self, ctx: TransactionContext, request: str) -> str:
        """Opens a 14-day vote on setting one system parameter."""
        return await run_command(ctx, cmd.SubmitProposalRequest, request, _submit)

    async def CastVote(self, ctx: TransactionContext, request: str) -> str:
        """Casts one vote per user on an active proposal before its voting end time."""
        return await run_command(ctx, cmd.CastVoteRequest, request, _vote)

    async def ExecuteProposal(self, ctx: TransactionContext, request: str) -> str:
        """Closes a proposal after its voting end time: with quorum (`governance_quorum_votes`) and..."""
        return await run_command(ctx, cmd.ExecuteProposalRequest, request, _execute)

    async def GetProposal(self, ctx: TransactionContext, request: str) -> str:
        """Reads one governance proposal."""
        return await run_query(ctx, qry.GetProposalRequest, request, _get)


async def _require_proposal(tx: Tx, proposal_id: str) -> res.Proposal:
    check_id(proposal_id, "proposal_id")
    found = await tx.get_msg(_proposal_key(proposal_id), res.Proposal)
    if found is None:
        raise NotFound("proposal", proposal_id)
    return found


async def _submit(tx: Tx, request: cmd.SubmitProposalRequest) -> cmd.SubmitProposalResult:
    rules.check_parameter(request.parameter, request.value)
    check_text(request.title, "title", 200)
    check_text(request.description, "description", 4_000, required=False)
    check_id(request.proposer_id, "proposer_id")
    proposer = await ledger.require_user(tx, request.proposer_id)
    need(proposer.admin, "NOT_AN_ADMIN", f"{request.proposer_id} is not an on-chain admin")
    need(
        await tx.get(_active_key(request.parameter)) is None,
        "PROPOSAL_ACTIVE",
        f"{request.parameter} already has an active proposal",
    )
    proposal_id = request.request_id
    need(
        await tx.get(_proposal_key(proposal_id)) is None, "PROPOSAL_EXISTS", f"proposal {proposal_id} exists"
    )
    days = await ledger.param(tx, "voting_period_days")
    proposal = res.Proposal(
        proposal_id=proposal_id,
        parameter=request.parameter,
        value=request.value,
        title=request.title,
        description=request.description,
        proposer_id=request.proposer_id,
        status=res.PROPOSAL_STATUS_ACTIVE,
    )
    proposal.create_time.CopyFrom(tx.time)
    proposal.voting_end_time.seconds = tx.time.seconds + days * _DAY_SECONDS
    proposal.voting_end_time.nanos = tx.time.nanos
    tx.put_msg(_proposal_key(proposal_id), proposal)
    tx.put(_active_key(request.parameter), proposal_id)
    tx.emit(proposal_submitted=ev.ProposalSubmitted(proposal=proposal))
    return cmd.SubmitProposalResult(proposal=proposal)


def _before(a: res.Proposal, tx: Tx) -> bool:
    end = a.voting_end_time
    return (tx.time.seconds, tx.time.nanos) < (end.seconds, end.nanos)


async def _vote(tx: Tx, request: cmd.CastVoteRequest) -> cmd.CastVoteResult:
    proposal = await _require_proposal(tx, request.proposal_id)
    need(
        proposal.status == res.PROPOSAL_STATUS_ACTIVE,
        "WRONG_STATUS",
        f"proposal {proposal.proposal_id} is closed",
    )
    need(_before(proposal, tx), "VOTING_CLOSED", f"voting on {proposal.proposal_id} has ended")
    check_id(request.voter_id, "voter_id")
    voter = await ledger.require_user(tx, request.voter_id)
    need(voter.status == res.USER_STATUS_ACTIVE, "USER_NOT_ACTIVE", f"user {request.voter_id} is not active")
    key = _vote_key(proposal.proposal_id, request.voter_id)
    need(await tx.get(key) is None, "ALREADY_VOTED", f"{request.voter_id} voted on this proposal already")
    tx.put(key, "for" if request.support else "against")
    if request.support:
        proposal.votes_for += 1
    else:
        proposal.votes_against += 1
    tx.put_msg(_proposal_key(proposal.proposal_id), proposal)
    tx.emit(
        vote_cast=ev.VoteCast(
            proposal_id=proposal.proposal_id,
            voter_id=request.voter_id,
            support=request.support,
            votes_for=proposal.votes_for,
            votes_against=proposal.votes_against,
        )
    )
    return cmd.CastVoteResult(proposal=proposal)


async def _execute(tx: Tx, request: cmd.ExecuteProposalRequest) -> cmd.ExecuteProposalResult:
    proposal = await _require_proposal(tx, request.proposal_id)
    need(
        proposal.status == res.PROPOSAL_STATUS_ACTIVE,
        "WRONG_STATUS",
        f"proposal {proposal.proposal_id} is closed",
    )
    need(not _before(proposal, tx), "VOTING_OPEN", f"voting on {proposal.proposal_id} is still open")
    passed = rules.proposal_passes(
        proposal.votes_for,
        proposal.votes_against,
        quorum_votes=await ledger.param(tx, "governance_quorum_votes"),
        approval_bps=await ledger.param(tx, "governance_approval_bps"),
    )
    tx.delete(_active_key(proposal.parameter))
    if passed:
        # Bounds are re-checked: the parameter table may have changed since the submission.
        rules.check_parameter(proposal.parameter, proposal.value)
        proposal.status = res.PROPOSAL_STATUS_EXECUTED
    else:
        proposal.status = res.PROPOSAL_STATUS_REJECTED
    tx.put_msg(_proposal_key(proposal.proposal_id), proposal)
    tx.emit(
        proposal_executed=ev.ProposalExecuted(
            proposal_id=proposal.proposal_id,
            status=proposal.status,
            votes_for=proposal.votes_for,
            votes_against=proposal.votes_against,
        )
    )
    if passed:
        previous = await ledger.set_param(tx, proposal.parameter, proposal.value)
        tx.emit(
            system_parameter_updated=ev.SystemParameterUpdated(
                parameter=proposal.parameter,
                value=proposal.value,
                previous_value=previous,
                proposal_id=proposal.proposal_id,
            )
        )
    return cmd.ExecuteProposalResult(proposal=proposal)


async def _get(tx: Tx, request: qry.GetProposalRequest) -> qry.GetProposalResult:
    return qry.GetProposalResult(proposal=await _require_proposal(tx, request.proposal_id))
