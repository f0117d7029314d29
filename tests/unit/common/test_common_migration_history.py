"""The migration history stays one straight line (two heads would make `gx db upgrade` fail)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from services.common import migrate


def test_history_has_one_head_and_starts_at_the_runtime_revision() -> None:
    script = ScriptDirectory.from_config(
        migrate.alembic_config("postgresql+psycopg://unused@127.0.0.1:1/unused")
    )
    assert len(script.get_heads()) == 1, (
        f"several heads: {script.get_heads()}; set down_revision to the current head"
    )
    assert script.get_bases() == ["0001_platform_outbox"]
    for revision in script.walk_revisions():
        assert revision.down_revision is None or isinstance(revision.down_revision, str), "no merge revisions"
