"""Pure parts of the wallet's back office: the trust-score explanation, the sweep's per-period
request ids, and the subject an admin command's audit row names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gx.wallet.v1 import admin_service_pb2 as admin
from gx.wallet.v1 import governance_service_pb2 as gov
from gx.wallet.v1 import tax_service_pb2 as tax

import ledger_rules as rules
from services.wallet.admin_audit import details_of, subject_of
from services.wallet.backoffice import period_request_id, repaid_loans_to, trust_response

_WALLET = "6f1c1f3e-8d55-4f7a-9d0c-3f1e2b7a9c10"


def test_loans_to_repay_round_up_and_stop_at_the_minimum() -> None:
    assert repaid_loans_to(75, 75) == 0
    assert repaid_loans_to(80, 75) == 0
    assert repaid_loans_to(70, 75) == 1
    assert repaid_loans_to(rules.INITIAL_TRUST_SCORE, 75) == 13  # (75 - 10) / 5
    assert repaid_loans_to(71, 75) == 1


def test_a_minimum_above_the_maximum_counts_only_up_to_the_maximum() -> None:
    assert repaid_loans_to(95, 120) == 1


def test_the_explanation_carries_the_ledger_rules() -> None:
    out = trust_response(_WALLET, 10, 75)
    assert (out.trust_score, out.min_score_for_loan, out.loan_eligible) == (10, 75, False)
    assert (out.initial_score, out.per_repaid_loan, out.max_score) == (
        rules.INITIAL_TRUST_SCORE,
        rules.TRUST_PER_REPAID_LOAN,
        rules.MAX_TRUST_SCORE,
    )
    assert len(out.rules) == 3 and "75" in out.rules[2]
    assert trust_response(_WALLET, 75, 75).loan_eligible


def test_a_sweep_request_id_is_one_per_wallet_and_period() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert period_request_id(_WALLET, start) == period_request_id(_WALLET, start)
    assert period_request_id(_WALLET, start) != period_request_id(_WALLET, start + timedelta(days=1))
    assert period_request_id(_WALLET, start) != period_request_id(_WALLET.replace("6f", "7f", 1), start)


def test_an_admin_command_names_what_it_acts_on() -> None:
    assert subject_of(admin.FreezeWalletRequest(wallet_id=_WALLET.upper())) == f"wallets/{_WALLET}"
    assert subject_of(admin.DistributeGenesisRequest(user_id=_WALLET)) == f"users/{_WALLET}"
    assert subject_of(admin.ActivateTreasuryRequest(country_code="LK")) == "countries/LK"
    assert subject_of(admin.UpdateSystemParameterRequest(name="loan_min_trust_score")) == (
        "parameters/loan_min_trust_score"
    )
    assert (
        subject_of(gov.SubmitProposalRequest(parameter="voting_period_days"))
        == "parameters/voting_period_days"
    )
    assert subject_of(admin.BootstrapSystemRequest()) == "system"
    assert subject_of(tax.SweepVelocityTaxRequest()) == "system"


def test_an_audit_row_carries_the_request_as_asked() -> None:
    details = details_of(admin.PauseSystemRequest(reason="incident 42", request_id=_WALLET))
    assert details == {"reason": "incident 42", "request_id": _WALLET}


def test_the_sweep_admits_exactly_who_may_apply_the_tax_it_records() -> None:
    # SweepVelocityTax records ApplyVelocityTax's command without declaring it (one RPC per
    # command); the submitter check on ApplyVelocityTax covers it only while the rules agree.
    from gx.type.v1 import access_pb2

    service = tax.DESCRIPTOR.services_by_name["TaxService"]

    def roles(method: str) -> list[int]:
        return list(service.methods_by_name[method].GetOptions().Extensions[access_pb2.access].roles)

    assert roles("SweepVelocityTax") == roles("ApplyVelocityTax") and roles("SweepVelocityTax")
