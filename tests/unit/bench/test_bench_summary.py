"""The `make bench` summary: ratios to the same run's ceiling or raw rate, JSON lines, RSS rows."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import psutil
import pytest

from bench import memory, summary

EDGE = [
    ("edge", {"path": "rest_via_envoy", "requests_per_s": 3000.0, "p99_ms": 4.0}),
    ("edge", {"path": "grpc_via_envoy", "requests_per_s": 2000.0, "p99_ms": 5.0}),
    ("edge", {"path": "grpc_direct", "requests_per_s": 4000.0, "p99_ms": 2.0}),
]


def _row(table: list[summary.Row], figure: str) -> summary.Row:
    found = [r for r in table if r.figure == figure]
    assert len(found) == 1, [r.figure for r in table]
    return found[0]


def test_reads_through_envoy_are_set_against_the_edge_ceiling_of_the_same_run() -> None:
    records = [
        *EDGE,
        ("wallet", {"path": "balance_read_rest_via_envoy", "requests_per_s": 1800.0, "p99_ms": 18.5}),
        ("wallet", {"path": "balance_read_grpc_direct", "requests_per_s": 1000.0, "p99_ms": 9.0}),
    ]
    table = summary.rows(records)
    rest = _row(table, "balance_read_rest_via_envoy")
    assert rest.ratio == 0.6
    assert rest.reference == "edge rest_via_envoy 3,000/s"
    assert "p99 18.5 ms" in rest.value
    assert rest.goal.startswith("ratio >= 0.60")
    assert _row(table, "balance_read_grpc_direct").ratio == 0.25
    assert _row(table, "rest_via_envoy").ratio is None  # the ceiling itself


def test_the_ceiling_at_the_reads_concurrency_is_shown_but_the_goals_keep_the_default_one() -> None:
    records = [
        *EDGE,
        ("edge", {"path": "rest_via_envoy_c16", "requests_per_s": 4500.0, "p99_ms": 6.0, "concurrency": 16}),
        ("wallet", {"path": "balance_read_rest_via_envoy", "requests_per_s": 1800.0, "p99_ms": 18.5}),
    ]
    table = summary.rows(records)
    assert _row(table, "rest_via_envoy_c16").reference == "the edge ceiling at 16 in flight"
    assert _row(table, "balance_read_rest_via_envoy").ratio == 0.6


def test_without_an_edge_run_there_is_no_ratio() -> None:
    table = summary.rows([("wallet", {"path": "balance_read_rest_via_envoy", "requests_per_s": 900.0})])
    assert _row(table, "balance_read_rest_via_envoy").ratio is None


def test_the_pipeline_is_set_against_the_raw_devnet_rate_of_its_own_benchmark() -> None:
    records: list[summary.Record] = [
        (
            "workers",
            {
                "commands_per_s_pending_to_committed": 10.0,
                "devnet_raw_transfers_per_s": 20.0,
                "replay_tx_per_s": 600.0,
                "devnet_stream_events_per_s": 1200.0,
            },
        ),
        (
            "ordering",
            {
                "commands_per_s_pending_to_committed": 90.0,
                "devnet_raw_transfers_per_s": 100.0,
                "merchant_to_distinct_ratio": 1.1,
            },
        ),
        (
            "chaincode",
            {
                "inprocess": {
                    "with_fee": {
                        "get_state": 7,
                        "get_state_by_range": 1,
                        "put_or_delete_state": 5,
                        "json_decodes": 3,
                    },
                    "cpu_ms_per_transfer": 0.35,
                },
                "devnet": {
                    "devnet_gx_transfers_per_s": 120.0,
                    "cpu_ms_per_transfer": {"chaincode": 3.5, "devnet": 4.3},
                },
            },
        ),
    ]
    table = summary.rows(records)
    assert _row(table, "outbox PENDING→COMMITTED (one causal chain)").ratio == 0.5
    assert _row(table, "outbox PENDING→COMMITTED (independent senders)").ratio == 0.9
    # Replay against the devnet's GX rate measured in the same run (the chaincode benchmark's).
    replay = _row(table, "projector replay")
    assert replay.ratio == 5.0 and "chaincode" in replay.reference
    assert _row(table, "projector replay vs its event stream").ratio == 0.5
    assert (
        "7 GetState + 1 range + 5 writes; 3 decodes"
        in _row(table, "chaincode shim calls per fee-paying transfer").value
    )


def test_a_pipeline_of_alternating_rounds_is_judged_on_its_median_rounds_own_ratio() -> None:
    # The median round ran 180 commands/s between raw rounds of 196 and 204 (0.9 exactly); the
    # top-level rates are that round's, but a ratio taken from rounded rates must not stand in.
    ordering = {
        "commands_per_s_pending_to_committed": 180.0,
        "devnet_raw_transfers_per_s": 200.0,
        "pipeline_ratio": 0.899,
        "pipeline_ratio_min": 0.85,
        "pipeline_ratio_max": 0.97,
        "pipeline_rounds": [{"ratio": r} for r in (0.85, 0.899, 0.93, 0.97, 0.88)],
    }
    row = _row(summary.rows([("ordering", ordering)]), "outbox PENDING→COMMITTED (independent senders)")
    assert (row.ratio, row.met) == (0.9, False)
    assert "median of 5 rounds (0.85-0.97)" in row.value
    met = _row(
        summary.rows([("ordering", {**ordering, "pipeline_ratio": 0.9})]),
        "outbox PENDING→COMMITTED (independent senders)",
    )
    assert met.met is True


def test_cpu_per_request_replay_cpu_and_batched_shim_messages_are_shown() -> None:
    records: list[summary.Record] = [
        *EDGE,
        (
            "wallet",
            {
                "path": "balance_read_rest_via_envoy",
                "requests_per_s": 1500.0,
                "wallet_cpu_ms_per_req": 0.52,
                "postgres_cpu_ms_per_req": 0.1,
                "edge_cpu_ms_per_req": 0.003,  # a path that does not pass the edge: left out
            },
        ),
        (
            "workers",
            {
                "replay_tx_per_s": 2500.0,
                "replay_projector_cpu_ms_per_tx": 0.18,
                "replay_postgres_cpu_ms_per_tx": 0.08,
            },
        ),
        (
            "chaincode",
            {"inprocess": {"with_fee_peer_batching": {"requests": ["a", "b", "c"], "shim_messages": 8}}},
        ),
    ]
    table = summary.rows(records)
    read = _row(table, "balance_read_rest_via_envoy")
    assert read.value.endswith("CPU ms/req: wallet 0.52, postgres 0.1"), read.value
    assert read.goal.endswith("<= 0.4 ms CPU")
    assert _row(table, "projector replay").value == "2500 tx/s; CPU ms/tx: projector 0.18, PostgreSQL 0.08"
    batched = _row(table, "chaincode stream messages per fee-paying transfer (peer offers batching)")
    assert batched.value == "8 messages, 3 requests"


def test_json_lines_are_found_among_human_output_and_rendered_with_rss() -> None:
    text = 'outbox: 10 commands/s\n{"replay_tx_per_s": 650.5}\nnot json {\n{"broken": \n'
    assert summary.parse_json_lines(text) == [{"replay_tx_per_s": 650.5}]
    rendered = summary.render(
        summary.rows([("workers", {"replay_tx_per_s": 650.5})]),
        {"workers": [{"process": "outbox", "count": 1, "idle_mb": 60.0, "after_mb": 80.5, "peak_mb": 160.0}]},
    )
    assert "projector replay" in rendered and "650.5 tx/s" in rendered
    assert "services above 150 MB: workers/outbox 160 MB" in rendered


def test_processes_are_named_by_their_module_or_executable() -> None:
    assert memory.label_of([sys.executable, "-m", "services.wallet"], "python") == "wallet"
    assert memory.label_of([sys.executable, "-m", "outbox"], "python") == "outbox"
    assert memory.label_of(["/usr/lib/postgresql/bin/postgres", "-D", "x"], "postgres") == "postgres"
    assert memory.label_of([sys.executable, "tests/support/kv_chaincode.py"], "python") == "kv_chaincode"
    assert memory.label_of(["postgres: checkpointer "], "postgres") == "postgres"
    assert memory.label_of(["redis-server 127.0.0.1:6379"], "redis-server") == "redis-server"


def test_rows_group_by_label_and_leave_out_start_up_steps() -> None:
    rows = memory.by_label(
        [
            {"process": "postgres", "pid": 1, "idle_mb": 20.0, "after_mb": 30.0, "peak_mb": 31.0},
            {"process": "postgres", "pid": 2, "idle_mb": 8.0, "after_mb": 40.0, "peak_mb": 41.0},
            {"process": "initdb", "pid": 3, "idle_mb": None, "after_mb": 4.0, "peak_mb": 4.0},
        ]
    )
    assert rows == [{"process": "postgres", "count": 2, "idle_mb": 20.0, "after_mb": 40.0, "peak_mb": 41.0}]


def test_the_sampler_sees_a_real_child_process_and_its_rss() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; data = bytearray(30 * 1024 * 1024); time.sleep(30)"]
    )
    try:
        sampler = memory.TreeSampler(os.getpid(), interval=0.05, settle=0.0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            sampler.sample()
            if psutil.Process(child.pid).memory_info().rss > 30 * 1024 * 1024:
                break
            time.sleep(0.05)
        sampler.sample()
        seen = {p["pid"]: p for p in sampler.stop()}
    finally:
        child.kill()
        child.wait()
    assert child.pid in seen
    assert float(seen[child.pid]["peak_mb"]) >= 30  # type: ignore[arg-type]
    rows = memory.by_label(list(seen.values()))
    assert any(r["process"] == "bench (load generator)" for r in rows)
    assert json.dumps(rows)  # the rows go to the JSON lines file as they are


def test_the_sampler_follows_children_in_other_sessions_and_daemonised_processes_of_its_own() -> None:
    # The root's shell starts: a subshell that starts `sleep 31` and exits at once, so that sleep is
    # nobody's child in the tree any more (as PostgreSQL after pg_ctl), only in the root's session;
    # `sleep 33` in a session of its own, found only as the shell's child; `sleep 32`, a plain child.
    root = subprocess.Popen(["sh", "-c", "(sleep 31 &) ; setsid sleep 33 & sleep 32"], start_new_session=True)
    wanted = {"31", "32", "33"}
    found: dict[str, int] = {}
    try:
        sampler = memory.TreeSampler(root.pid, interval=0.05, settle=0.0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and set(found) != wanted:
            sampler.sample()
            for proc in psutil.process_iter(["cmdline"]):
                args = proc.info["cmdline"] or []
                if len(args) == 2 and args[0] == "sleep" and args[1] in wanted:
                    found[args[1]] = proc.pid
            time.sleep(0.05)
        sampler.sample()
        seen = {p["pid"] for p in sampler.stop()}
        assert set(found) == wanted
        assert os.getsid(found["33"]) != os.getsid(root.pid)
        assert psutil.Process(found["31"]).ppid() != root.pid
    finally:
        os.killpg(root.pid, 9)
        root.wait()
        for pid in found.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
    assert {found["31"], found["32"], found["33"]} <= seen


def test_a_process_that_exited_unreaped_keeps_the_figures_of_its_life() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "data = bytearray(20 * 1024 * 1024); input()"], stdin=subprocess.PIPE
    )
    try:
        sampler = memory.TreeSampler(os.getpid(), interval=0.05, settle=0.0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and psutil.Process(child.pid).memory_info().rss < 20 * 1024 * 1024:
            time.sleep(0.05)
        sampler.sample()
        assert child.stdin is not None
        child.stdin.close()  # it exits; nobody reaps it until wait() below: a zombie
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE
        sampler.sample()
        seen = {p["pid"]: p for p in sampler.stop()}
    finally:
        child.kill()
        child.wait()
    assert float(seen[child.pid]["idle_mb"]) >= 20  # type: ignore[arg-type]
    assert float(seen[child.pid]["after_mb"]) >= 20  # type: ignore[arg-type]


def test_interleaved_reads_show_their_median_ratio_against_the_ceiling_of_the_same_rounds() -> None:
    line = {
        "path": "history_read_interleaved",
        "rounds": 7,
        "median_per_s": 2141.8,
        "ceiling_median_per_s": 3843.5,
        "ratio_median": 0.558,
        "ratio_min": 0.534,
        "ratio_max": 0.608,
    }
    table = summary.rows([*EDGE, ("interleaved", line), ("interleaved", {"round": 0, "ceiling_per_s": 1.0})])
    row = _row(table, "history_read_interleaved")
    assert row.ratio == 0.56 and row.goal == "ratio >= 0.60"
    assert row.value == "2,142/s median; ratio 0.534-0.608 over 7 rounds"
    assert row.reference == "edge ceiling 3,844/s, same rounds"
    assert len(table) == len(summary.rows(EDGE)) + 1  # the per-round lines make no rows


def test_an_interleaved_ratio_is_each_rounds_read_over_that_rounds_ceiling() -> None:
    from bench import interleaved_bench

    rounds = [
        {"ceiling": 4000.0, "history": 2000.0},  # 0.5
        {"ceiling": 3000.0, "history": 1950.0},  # 0.65: the machine slowed, both with it
        {"ceiling": 3500.0, "history": 2100.0},  # 0.6
    ]
    assert interleaved_bench.ratios(rounds, "history") == {
        "ratio_median": 0.6,
        "ratio_min": 0.5,
        "ratio_max": 0.65,
    }
    # Dividing medians instead (2000 / 3500 = 0.571) would pair a read with another round's ceiling.
    assert interleaved_bench.ratios([{"ceiling": 0.0, "history": 1.0}], "history") == {}


def test_the_history_read_against_the_page_ceiling_is_its_own_row_without_a_goal() -> None:
    line = {
        "path": "history_read_interleaved",
        "rounds": 3,
        "median_per_s": 2563.1,
        "ceiling_median_per_s": 4502.6,
        "ratio_median": 0.588,
        "ratio_min": 0.563,
        "ratio_max": 0.59,
        "page_ceiling_median_per_s": 3362.7,
        "page_ratio_median": 0.762,
        "page_ratio_min": 0.757,
        "page_ratio_max": 0.804,
    }
    table = summary.rows([*EDGE, ("interleaved", line)])
    assert _row(table, "history_read_interleaved").ratio == 0.59  # the goal's ratio is unchanged
    page = _row(table, "history_read_interleaved (page ceiling)")
    assert page.ratio == 0.76 and page.goal == ""
    assert page.value == "ratio 0.757-0.804 over 3 rounds"
    assert page.reference == "a no-op answering the same page 3,363/s, same rounds"


def test_a_ratio_can_be_taken_against_another_ceiling_of_the_same_rounds() -> None:
    from bench import interleaved_bench

    rounds = [
        {"ceiling": 4000.0, "page_ceiling": 3000.0, "history": 2400.0},
        {"ceiling": 3000.0, "page_ceiling": 2500.0, "history": 1500.0},
    ]
    assert interleaved_bench.ratios(rounds, "history", "page_ceiling", "page_ratio") == {
        "page_ratio_median": 0.7,
        "page_ratio_min": 0.6,
        "page_ratio_max": 0.8,
    }


def _page_json(rows: int, remark: str = "seed") -> bytes:
    entry = {"txId": "seed-x:0", "walletId": "w", "type": "TRANSACTION_TYPE_RECEIVED", "remark": remark}
    return json.dumps({"transactions": [entry] * rows, "nextPageToken": ""}).encode()


def test_the_page_ceiling_must_answer_a_page_of_the_same_shape() -> None:
    from bench import interleaved_bench

    assert interleaved_bench.same_shape(_page_json(20), _page_json(20)) is None
    assert interleaved_bench.same_shape(_page_json(20), _page_json(19)) == "20 entries against 19"
    longer = _page_json(20, remark="a much longer remark than the seeded one")
    assert interleaved_bench.same_shape(_page_json(20), longer) is not None
    other_keys = json.dumps({"transactions": [{"txId": "a"}] * 20}).encode()
    assert interleaved_bench.same_shape(_page_json(20), other_keys) == "the entries' keys differ"


def test_the_stand_in_page_has_every_field_the_seeded_history_shows() -> None:
    from tests.support.edge_backend import HISTORY_PAGE_ROWS, history_page

    page = history_page()
    assert len(page.transactions) == HISTORY_PAGE_ROWS
    first = page.transactions[0]
    set_fields = {f.name for f, _ in first.ListFields()}
    # What the wallet answers for a seeded entry: no fee (RECEIVED) and no operation (no command).
    assert set_fields == {
        "tx_id",
        "wallet_id",
        "type",
        "amount_qirat",
        "counterparty",
        "remark",
        "block_number",
        "fabric_tx_id",
        "time",
    }
    assert first.tx_id == f"{first.fabric_tx_id}:0" and first.time.nanos % 1000 == 0


def _read(path: str, rate: float, p99: float, wallet: float, postgres: float) -> summary.Record:
    line = {"path": path, "requests_per_s": rate, "p99_ms": p99}
    return ("wallet", {**line, "wallet_cpu_ms_per_req": wallet, "postgres_cpu_ms_per_req": postgres})


@pytest.mark.parametrize(
    ("rate", "p99", "wallet", "postgres", "met"),
    [
        (1800.0, 19.9, 0.25, 0.15, True),  # 0.60 of 3,000/s, under 20 ms, 0.40 ms of CPU: just met
        (1795.0, 10.0, 0.2, 0.1, False),  # 0.598 of the ceiling (shown as 0.60)
        (2400.0, 20.0, 0.2, 0.1, False),  # p99 at the bound, not under it
        (2400.0, 10.0, 0.3, 0.11, False),  # 0.41 ms of the read's own CPU
    ],
)
def test_a_read_meets_its_goal_only_on_every_count(
    rate: float, p99: float, wallet: float, postgres: float, met: bool
) -> None:
    table = summary.rows([*EDGE, _read("history_read_rest_via_envoy", rate, p99, wallet, postgres)])
    assert _row(table, "history_read_rest_via_envoy").met is met


def test_goals_are_judged_and_shown_and_figures_without_one_are_not() -> None:
    records: list[summary.Record] = [
        *EDGE,
        ("wallet", {"path": "transfer_accept_rest_via_envoy", "requests_per_s": 999.0, "p99_ms": 20.0}),
        ("ordering", {"commands_per_s_pending_to_committed": 90.0, "devnet_raw_transfers_per_s": 100.0}),
        # 0.896 shows as 0.90 but is under 90%.
        ("workers", {"commands_per_s_pending_to_committed": 89.6, "devnet_raw_transfers_per_s": 100.0}),
        ("workers", {"replay_tx_per_s": 2500.0, "devnet_raw_transfers_per_s": 100.0}),
        ("interleaved", {"path": "history_read_interleaved", "ratio_median": 0.599, "rounds": 7}),
    ]
    table = summary.rows(records)
    assert _row(table, "transfer_accept_rest_via_envoy").met is False  # 999/s
    pipelines = [r for r in table if r.figure.startswith("outbox PENDING")]
    assert [(r.ratio, r.met) for r in pipelines] == [(0.9, True), (0.9, False)]
    assert _row(table, "projector replay").met is True
    assert _row(table, "history_read_interleaved").met is False  # 0.599 is under 0.60
    assert _row(table, "rest_via_envoy").met is None  # the ceiling has no goal
    text = summary.render(table)
    assert text.splitlines()[0].split()[-1] == "met"
    assert any(line.rstrip().endswith("NO") and "transfer_accept" in line for line in text.splitlines())


def test_the_history_rows_say_how_many_reads_a_kept_page_answered() -> None:
    interleaved = {
        "path": "history_read_interleaved",
        "rounds": 3,
        "median_per_s": 2900.0,
        "ceiling_median_per_s": 4500.0,
        "ratio_median": 0.644,
        "ratio_min": 0.62,
        "ratio_max": 0.66,
        "history_pages_kept_share": 0.5,
    }
    wallet = {
        "path": "history_read_rest_via_envoy",
        "requests_per_s": 2400.0,
        "history_pages_kept_share": 0.998,
    }
    table = summary.rows([*EDGE, ("interleaved", interleaved), ("wallet", wallet)])
    assert _row(table, "history_read_interleaved").value.endswith("over 3 rounds; 50% from kept pages")
    assert _row(table, "history_read_rest_via_envoy").value.endswith("; 100% from kept pages")
    balance = {"path": "balance_read_rest_via_envoy", "requests_per_s": 3800.0}
    assert "kept" not in _row(summary.rows([*EDGE, ("wallet", balance)]), "balance_read_rest_via_envoy").value


def test_the_kept_share_counts_only_the_reads_between_two_readings() -> None:
    from bench import wallet_bench

    before = {"hit": 10.0, "miss": 5.0}
    assert wallet_bench.kept_share(before, {"hit": 40.0, "miss": 15.0}) == 0.75
    assert wallet_bench.kept_share(before, before) is None  # no read between them
    assert wallet_bench.kept_share({}, {"miss": 3.0}) == 0.0
