"""Errors that say whether trying again can help.

Domain code raises these; the DAG layer turns ``PermanentError`` into ``AirflowFailException``
(no retry) and lets ``TransientError`` take the task's retries.
"""

from __future__ import annotations

import re


class PermanentError(Exception):
    """Retrying cannot help: bad SQL, a bad configuration file, a malformed value."""


class TransientError(Exception):
    """Retrying may help: a database that is down, a timeout, a gateway's 5xx."""


# Server error codes after which the same statement will fail again (MySQL/MariaDB).
_MYSQL_PERMANENT = {1044, 1045, 1049, 1054, 1064, 1109, 1146, 1149, 1222, 1241, 1305, 1525}
# ... and after which it may succeed (connection lost, lock wait, deadlock, statement timeout).
_MYSQL_TRANSIENT = {1040, 1053, 1205, 1213, 1317, 1969, 2002, 2003, 2005, 2006, 2013, 3024}


# A server message quotes identifiers and row values alike: "Unknown column 'x' in 'field
# list'", 'relation "lic" does not exist', but also "Duplicate entry '<licence no>' for key …",
# 'date/time field value out of range: "139-0372-0011"', 'invalid input syntax for type
# bigint: "+86 13903720005"'. A quoted text is kept only after a word that introduces an
# identifier, a host or SQL text; anything else quoted may be personal data and is redacted.
_KEEP_AFTER = frozenset({
    "column", "columns", "relation", "table", "view", "schema", "database", "function", "type",
    "constraint", "index", "key", "role", "user", "sequence", "operator", "procedure", "in", "for",
    "at", "near", "on", "server", "host", "file", "variable", "option", "parameter", "mode",
    "connection", "field", "extra", "step",
})
_QUOTED_TEXT = re.compile(r"""(?<![\w])(?:'(?:[^'\\]|\\.)*'(?![\w])|"(?:[^"\\]|\\.)*")""")
_WORD_BEFORE = re.compile(r"""(\w+)\W*$""")
# PyMySQL's errors read as a tuple: (1062, "Duplicate entry '…' for key 'uq'")
_DRIVER_TUPLE = re.compile(r"""\((\d+), (["'])(.*)\2\)""", re.DOTALL)


def _redact(text: str) -> str:
    def quoted(m: re.Match[str]) -> str:
        preceding = text[max(0, m.start() - 40):m.start()].rstrip()
        before = _WORD_BEFORE.search(preceding)
        word = before.group(1).lower() if before else ""
        keep = (word in _KEEP_AFTER or preceding.endswith("@")) and not re.search(r"\d{6}", m.group(0))
        return m.group(0) if keep else "'…'"

    return _QUOTED_TEXT.sub(quoted, text)


def redact_values(detail: str) -> str:
    """``detail`` with every quoted text that is not an identifier, a host or SQL replaced by
    ``'…'``."""
    if m := _DRIVER_TUPLE.search(detail):
        return (_redact(detail[:m.start()]) + f"({m.group(1)}, {m.group(2)}{_redact(m.group(3))}{m.group(2)})"
                + _redact(detail[m.end():]))
    return _redact(detail)


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
    if code in _MYSQL_PERMANENT:
        return PermanentError(message)
    if code in _MYSQL_TRANSIENT:
        return TransientError(message)
    if isinstance(exc, (sa_exc.ProgrammingError, sa_exc.DataError, sa_exc.IntegrityError,
                        sa_exc.NoSuchModuleError, sa_exc.ArgumentError)):
        return PermanentError(message)
    if isinstance(exc, sa_exc.OperationalError):
        text = detail.lower()
        if "no such table" in text or "no such column" in text or "syntax error" in text:
            return PermanentError(message)
        if "authentication failed" in text or "password authentication" in text:
            return PermanentError(message)
        return TransientError(message)
    if isinstance(exc, (sa_exc.DBAPIError, TimeoutError, ConnectionError, OSError)):
        return TransientError(message)
    return PermanentError(message)
