"""Errors that say whether trying again can help.

Domain code raises these; the DAG layer turns ``PermanentError`` into ``AirflowFailException``
(no retry) and lets ``TransientError`` take the task's retries.
"""

from __future__ import annotations

import re

from licence_reminder.masking import stray_personal


class PermanentError(Exception):
    """Retrying cannot help: bad SQL, a bad configuration file, a malformed value."""


class TransientError(Exception):
    """Retrying may help: a database that is down, a timeout, a gateway's 5xx."""


# MySQL/MariaDB server errors (codes 1000-1999 and 3000 on) say what is wrong with the statement
# or the data — bad SQL, a missing table, "Subquery returns more than 1 row", a trigger's SIGNAL —
# and the same statement fails again: permanent, except these, after which it may succeed
# (server shutting down or out of resources, lock wait, deadlock, statement timeout, connection
# killed or broken, a server read-only during a fail-over). Client errors (2000-2999: cannot
# connect, connection lost) are transient.
_MYSQL_TRANSIENT = {
    1021,
    1028,
    1037,
    1038,
    1040,
    1041,
    1053,
    1114,
    1135,
    1158,
    1159,
    1160,
    1161,
    1180,
    1181,
    1203,
    1205,
    1213,
    1226,
    1290,
    1317,
    1615,
    1637,
    1792,
    1836,
    1927,
    1969,
    3024,
    4031,
}


# PostgreSQL SQLSTATE classes after which the statement may succeed: connection exception,
# transaction rollback (serialization, deadlock), insufficient resources, operator intervention
# (statement timeout, shutdown), system error, internal error. Any other class (syntax and access
# 42, data 22, cardinality 21 — "more than one row returned by a subquery" —, a RAISE in P0)
# fails again.
_PG_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58", "XX"})


# The connection itself gone — the server restarted, shut down or killed the session, or the
# network dropped it: "MySQL server has gone away", "Lost connection to server during query",
# "Connection was killed"; PostgreSQL's class 08 and admin shutdown (57P01-57P03). Said as such,
# so that the one line a failed run ends with names the side that was lost.
_MYSQL_LOST = frozenset({1053, 1927, 2006, 2013, 2055, 4031})
_PG_LOST = ("08", "57P01", "57P02", "57P03")
_LOST_TEXTS = (
    "server closed the connection unexpectedly",
    "lost connection",
    "has gone away",
    "connection was killed",
)


def _lost(code: int | None, sqlstate: str | None, text: str) -> bool:
    if code in _MYSQL_LOST or (isinstance(sqlstate, str) and sqlstate.startswith(_PG_LOST)):
        return True
    return code is None and any(t in text.lower() for t in _LOST_TEXTS)


def _mysql_permanent(code: int | None) -> bool:
    return (
        code is not None and (1000 <= code < 2000 or code >= 3000) and code not in _MYSQL_TRANSIENT
    )


# A server message quotes identifiers and row values alike: "Unknown column 'x' in 'field
# list'", 'relation "lic" does not exist', but also "Duplicate entry '<licence no>' for key …",
# 'date/time field value out of range: "139-0372-0011"', 'invalid input syntax for type
# bigint: "+86 13903720005"'. A quoted text is kept only after a word that introduces an
# identifier, a host or SQL text; anything else quoted may be personal data and is redacted.
_KEEP_AFTER = frozenset(
    {
        "column",
        "columns",
        "relation",
        "table",
        "view",
        "schema",
        "database",
        "function",
        "type",
        "constraint",
        "index",
        "key",
        "role",
        "user",
        "sequence",
        "operator",
        "procedure",
        "in",
        "for",
        "at",
        "near",
        "on",
        "server",
        "host",
        "file",
        "variable",
        "option",
        "parameter",
        "mode",
        "connection",
        "field",
        "extra",
        "step",
    }
)
_QUOTED_TEXT = re.compile(r"""(?<![\w])(?:'(?:[^'\\]|\\.)*'(?![\w])|"(?:[^"\\]|\\.)*")""")
_WORD_BEFORE = re.compile(r"""(\w+)\W*$""")
# PyMySQL's errors read as a tuple: (1062, "Duplicate entry '…' for key 'uq'")
_DRIVER_TUPLE = re.compile(r"""\((\d+), (["'])(.*)\2\)""", re.DOTALL)


def _redact(text: str) -> str:
    def quoted(m: re.Match[str]) -> str:
        preceding = text[max(0, m.start() - 40) : m.start()].rstrip()
        before = _WORD_BEFORE.search(preceding)
        word = before.group(1).lower() if before else ""
        keep = (
            (
                word in _KEEP_AFTER
                or preceding.endswith("@")
                or preceding.lower().endswith("host name")
            )
            and not re.search(r"\d{6}", m.group(0))
            and stray_personal(m.group(0)[1:-1]) is None
        )
        return m.group(0) if keep else "'…'"

    return _QUOTED_TEXT.sub(quoted, text)


def redact_values(detail: str) -> str:
    """``detail`` with every quoted text that is not an identifier, a host or SQL replaced by
    ``'…'``."""
    if m := _DRIVER_TUPLE.search(detail):
        return (
            _redact(detail[: m.start()])
            + f"({m.group(1)}, {m.group(2)}{_redact(m.group(3))}{m.group(2)})"
            + _redact(detail[m.end() :])
        )
    return _redact(detail)


def classify_server_error(
    *, what: str, text: str, code: int | None = None, sqlstate: str | None = None
) -> Exception:
    """A database server's error — MySQL's ``code`` or PostgreSQL's ``sqlstate`` — as Permanent or
    Transient (see the lists above), its text with any quoted value redacted."""
    message = f"{what}: {redact_values(text.splitlines()[0])[:500] if text else 'server error'}"
    if _lost(code, sqlstate, text or ""):
        return TransientError(message.replace(f"{what}: ", f"{what}: connection lost: ", 1))
    if _mysql_permanent(code):
        return PermanentError(message)
    if isinstance(sqlstate, str) and len(sqlstate) == 5 and code is None:
        return (TransientError if sqlstate[:2] in _PG_TRANSIENT_CLASSES else PermanentError)(
            message
        )
    if code is not None and (code in _MYSQL_TRANSIENT or 2000 <= code < 3000):
        return TransientError(message)
    return PermanentError(message)


def classify_db_error(exc: BaseException, *, what: str) -> Exception:
    """Wrap a DB-API/SQLAlchemy error as Permanent or Transient, with a message for a person.

    The message carries the server's error text, with any row value it quotes redacted (it names
    tables, columns and keys), and what we were doing.
    """
    from sqlalchemy import exc as sa_exc

    orig = getattr(exc, "orig", None) or exc
    code = None
    if orig is not None and getattr(orig, "args", None):
        first = orig.args[0]
        code = first if isinstance(first, int) else None
    detail = redact_values(str(orig).splitlines()[0])[:500] if str(orig) else type(orig).__name__
    message = f"{what}: {detail}"
    sqlstate = getattr(orig, "pgcode", None)
    if _lost(code, sqlstate, detail) and (
        code is not None
        or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError))
    ):
        return TransientError(f"{what}: connection lost: {detail}")
    if (
        _mysql_permanent(code)
        or (code is not None and (code in _MYSQL_TRANSIENT or 2000 <= code < 3000))
        or (isinstance(sqlstate, str) and len(sqlstate) == 5)
    ):
        return classify_server_error(what=what, text=str(orig), code=code, sqlstate=sqlstate)
    if isinstance(
        exc,
        (
            sa_exc.ProgrammingError,
            sa_exc.DataError,
            sa_exc.IntegrityError,
            sa_exc.NoSuchModuleError,
            sa_exc.ArgumentError,
        ),
    ):
        return PermanentError(message)
    if isinstance(exc, sa_exc.OperationalError):
        text = detail.lower()
        if "no such table" in text or "no such column" in text or "syntax error" in text:
            return PermanentError(message)
        # PostgreSQL refusing a connection (no SQLSTATE reaches the driver): a wrong database,
        # role, password or pg_hba.conf rule fails the same way every time
        if any(
            s in text
            for s in (
                "authentication failed",
                "password authentication",
                "does not exist",
                "no pg_hba.conf entry",
                "permission denied",
            )
        ):
            return PermanentError(message)
        return TransientError(message)
    if isinstance(exc, (sa_exc.DBAPIError, TimeoutError, ConnectionError, OSError)):
        return TransientError(message)
    return PermanentError(message)
