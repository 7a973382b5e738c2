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


# Server messages that quote a row's value: a duplicate key (MySQL: "Duplicate entry
# 'dept-licence_no' for key …"), a value a column or a cast refused ("Incorrect date value: '…'",
# PostgreSQL: 'invalid input syntax for type date: "…"', 'value "…" is out of range for type
# integer', to_date's 'invalid value "…" for "MM"'). The value may be an ID number or a mobile.
_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_QUOTED_VALUE = re.compile(
    r"((?:Duplicate entry|Incorrect [\w ]+? value:|Truncated incorrect [\w ]+? value:"
    r"|invalid input syntax for type [\w ]+?:|invalid input value for enum [\w.]+:"
    r"|(?<![\w'\"])value(?= )|invalid value(?= )) ?)" + _QUOTED, re.IGNORECASE)
# Any other quoted text holding six digits or more: server wordings vary, identifiers seldom do.
_QUOTED_DIGITS = re.compile(r"""(['"])[^'"\n]*\d{6}[^'"\n]*\1""")


def redact_values(detail: str) -> str:
    """``detail`` with any row value a server message quotes replaced by ``'…'``."""
    return _QUOTED_DIGITS.sub("'…'", _QUOTED_VALUE.sub(r"\1'…'", detail))


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
