"""Find the hand-written SQL in the source tree and check it against the declared tables.

Statements are found statically: every string expression in a first-party module (string
literals, implicit and `+` concatenations, f-strings whose parts are module-level string
constants) that starts like a statement and names a table of a declared schema. Each one is
parsed with sqlglot (PostgreSQL dialect) and every table and column it names must be declared:

- a schema-qualified table must be declared (`ledger.wallet` is an error);
- INSERT, UPDATE and ON CONFLICT target columns must be columns of their table;
- a column qualified by a declared table or its alias (`w.balance_qirat`, `EXCLUDED.x`,
  `ledger.wallets.x`) must be a column of that table;
- an unqualified column must be a column of some declared table the statement names, or a name
  the statement itself defines (an output alias, a derived table's column, a CTE).

An f-string part that no module constant resolves (a WHERE clause built at run time) is tried
as empty, TRUE and NULL until the statement parses; one that never parses is reported, so no
statement is skipped in silence.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlalchemy import Table
from sqlglot import exp

ROOT = Path(__file__).resolve().parents[3]

# Directories that hold no hand-written SQL of the running system (or are not ours).
_SKIP_DIRS = frozenset(
    {
        ".venv",
        ".git",
        "gen",
        "build",
        "tests",
        "third_party",
        "sdk",
        "node_modules",
        "migrations",
        "data",
        "docs",
    }
)
_STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|TRUNCATE)\s", re.DOTALL)
# psycopg's named parameters (db.fetch_all) read as SQLAlchemy's, which sqlglot parses.
_PSYCOPG_PARAM = re.compile(r"%\((\w+)\)s")
# What an unresolved f-string part is tried as, in order, until the statement parses.
_FILLERS = ("", "TRUE", "NULL")
_UNRESOLVED = "\x00"


@dataclass(frozen=True)
class Statement:
    """A hand-written statement and where it is.

    Attributes:
        where: `path:line` of the string expression.
        sql: The text, with unresolved f-string parts marked by NUL.
    """

    where: str
    sql: str


def python_files(root: Path = ROOT) -> Iterator[Path]:
    """Every first-party Python module under `root`."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if not any(part in _SKIP_DIRS or part.startswith(".") for part in parts[:-1]):
            yield path


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = <string expression>` bindings, resolved in order."""
    constants: dict[str, str] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        if value is None:
            continue
        text = _string(value, constants)
        if text is not None and _UNRESOLVED not in text:
            for target in targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = text
    return constants


def _string(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The text of a string expression (None when it is not one)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, ast.JoinedStr):
        pieces = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                resolved = _string(value.value, constants) if value.format_spec is None else None
                pieces.append(_UNRESOLVED if resolved is None else resolved)
            else:
                pieces.append(_string(value, constants) or "")
        return "".join(pieces)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "text"
        and node.args
    ):
        return _string(node.args[0], constants)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string(node.left, constants), _string(node.right, constants)
        if left is None and right is None:
            return None
        return (left if left is not None else _UNRESOLVED) + (right if right is not None else _UNRESOLVED)
    return None


def statements_in(path: Path, schemas: frozenset[str], root: Path = ROOT) -> list[Statement]:
    """The statements in one module that name a table of one of `schemas`."""
    tree = ast.parse(path.read_text(), str(path))
    constants = _module_constants(tree)
    names = re.compile(r"\b(" + "|".join(sorted(schemas)) + r")\.\w+")
    found: list[Statement] = []
    inner: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)) or id(node) in inner:
            continue
        text = _string(node, constants)
        if text is None:
            continue
        # The parts of a string expression are not statements of their own.
        inner.update(id(child) for child in ast.walk(node) if child is not node)
        if _STATEMENT.match(text) and names.search(text):
            found.append(Statement(f"{path.relative_to(root)}:{node.lineno}", text))
    return found


def all_statements(schemas: frozenset[str], root: Path = ROOT) -> list[Statement]:
    """Every hand-written statement of the tree that names a table of one of `schemas`."""
    return [statement for path in python_files(root) for statement in statements_in(path, schemas, root)]


def parse(sql: str) -> exp.Expr:
    """Parse one statement, trying fillers for unresolved parts; raises sqlglot's error if none fits."""
    sql = _PSYCOPG_PARAM.sub(r":\1", sql)
    error: Exception | None = None
    for filler in _FILLERS if _UNRESOLVED in sql else ("",):
        try:
            parsed = sqlglot.parse_one(sql.replace(_UNRESOLVED, filler), dialect="postgres")
        except sqlglot.errors.ParseError as exc:
            error = exc
            continue
        if parsed is not None:
            return parsed
    assert error is not None
    raise error


def _full_name(node: exp.Table) -> str:
    return f"{node.db}.{node.name}" if node.db else node.name


def problems(sql: str, tables: dict[str, Table]) -> list[str]:
    """What `sql` names that the declarations lack (empty when it names only declared things)."""
    tree = parse(sql)
    schemas = {table.schema for table in tables.values()}
    columns = {name: {column.name for column in table.columns} for name, table in tables.items()}
    found: list[str] = []
    aliases: dict[str, str] = {}
    named: list[str] = []
    for node in tree.find_all(exp.Table):
        if node.db not in schemas:
            continue
        full = _full_name(node)
        if full not in tables:
            found.append(f"table {full} is not declared")
            continue
        named.append(full)
        aliases[node.alias_or_name] = full
        aliases[full] = full
    # Names the statement defines itself: output aliases, derived tables and their columns, CTEs.
    defined = {alias.alias for alias in tree.find_all(exp.Alias)}
    derived: set[str] = set()
    for table_alias in tree.find_all(exp.TableAlias):
        defined.add(table_alias.name)
        defined.update(column.name for column in table_alias.columns)
        if not isinstance(table_alias.parent, exp.Table):
            derived.add(table_alias.name)
    defined.update(cte.alias for cte in tree.find_all(exp.CTE))
    in_scope = set().union(*(columns[name] for name in named)) if named else set()

    def check(table: str, column: str, what: str) -> None:
        if column not in columns[table]:
            found.append(f"{what} {table}.{column} is not declared")

    target = None
    if isinstance(tree, exp.Insert | exp.Update) and isinstance(tree.this, exp.Schema | exp.Table):
        table_node = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if isinstance(table_node, exp.Table) and _full_name(table_node) in tables:
            target = _full_name(table_node)
    if target is not None:
        if isinstance(tree.this, exp.Schema):
            for identifier in tree.this.expressions:
                check(target, identifier.name, "inserted column")
        assignments = list(tree.expressions) if isinstance(tree, exp.Update) else []
        conflict = tree.args.get("conflict")
        if conflict is not None:
            assignments += list(conflict.expressions or [])
            for key in conflict.args.get("conflict_keys") or []:
                check(target, key.name, "conflict key")
        for assignment in assignments:
            if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
                check(target, assignment.this.name, "assigned column")

    for column in tree.find_all(exp.Column):
        name = column.name
        if not name or isinstance(column.this, exp.Star):
            continue
        if column.db:
            full = f"{column.db}.{column.table}"
            if column.db in schemas:
                if full in tables:
                    check(full, name, "column")
                else:
                    found.append(f"table {full} is not declared")
        elif column.table:
            qualifier = column.table
            table = target if qualifier.upper() == "EXCLUDED" else aliases.get(qualifier)
            # A qualifier that also names a derived table (another scope reuses the alias) is
            # not resolved: its columns are the subquery's.
            if table is not None and qualifier not in derived:
                check(table, name, "column")
        elif named and name not in in_scope and name not in defined:
            found.append(f"column {name} is in none of {', '.join(sorted(named))}")
    return sorted(set(found))
