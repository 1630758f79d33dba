"""Logging setup for kube9-desktop: platform log directory, rotation and credential redaction.

This module does not import Qt so the simulator, the CLI and tests can use it freely.

Typical use at start-up::

    from kube9_desktop import logs

    log_file = logs.setup_logging(args.log_level)

Every handler installed by :func:`setup_logging` carries a :class:`RedactingFilter`, so bearer
tokens, kubeconfig credential fields, JWTs and PEM blocks never reach the log file or stderr.
Other modules that show text to the user (error dialogs, copied diagnostics) can reuse
:func:`redact`.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

__all__ = [
    "APP_AUTHOR",
    "APP_NAME",
    "BACKUP_COUNT",
    "LOG_FILE_NAME",
    "LOG_FORMAT",
    "MAX_BYTES",
    "REDACTED",
    "WRITES_LOGGER",
    "FirstWriteFileHandler",
    "RedactingFilter",
    "config_dir",
    "log_dir",
    "log_writes_to_file",
    "redact",
    "setup_logging",
]

APP_NAME = "kube9-desktop"
APP_AUTHOR = "kube9"
LOG_FILE_NAME = "kube9-desktop.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s [%(threadName)s] %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
REDACTED = "***"

# Third-party loggers that are chatty at INFO/DEBUG (and the kubernetes client logs request
# bodies at DEBUG): keep them at WARNING unless explicitly configured otherwise.
NOISY_LOGGERS = ("kubernetes", "kubernetes.client", "kubernetes.client.rest", "urllib3", "asyncio")

# Marker attribute so repeated setup_logging() calls replace only the handlers we own.
_OWNED = "_kube9_owned"


def log_dir() -> Path:
    """Return the per-user log directory (not created).

    Returns:
        The platform log directory, e.g. ``~/.local/state/kube9-desktop/log`` on Linux.
    """
    return _platform_log_dir()


def _platform_log_dir() -> Path:
    # Separate helper because setup_logging()'s ``log_dir`` parameter shadows log_dir().
    from platformdirs import user_log_dir  # the headless modes write no log file: imported when one is

    return Path(user_log_dir(APP_NAME, APP_AUTHOR))


def config_dir() -> Path:
    """Return the per-user configuration directory (not created).

    Returns:
        The platform config directory, e.g. ``~/.config/kube9-desktop`` on Linux.
    """
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, APP_AUTHOR))


# --- redaction ---------------------------------------------------------------------------------

_PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*?)-----.*?(?:-----END \1-----|\Z)",
    re.DOTALL,
)
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/=:]+")
_AUTH_HEADER_RE = re.compile(
    r"(?i)(['\"]?(?:proxy-)?authorization['\"]?\s*+[:=]\s*+['\"]?+)(?!bearer\b|basic\b)[^'\",}\r\n]+"
)
# Quoted key/value (JSON, Python repr, YAML with quotes): "token": "abc", 'password': 'x'.
_SECRET_KEYS = (
    r"client-key-data|client-certificate-data|certificate-authority-data|client_key_data|"
    r"client_certificate_data|id-token|id_token|refresh-token|refresh_token|access-token|"
    r"access_token|api[-_]?key|password|passwd|secret|token"
)
_QUOTED_KV_RE = re.compile(
    rf"(?i)(['\"](?:{_SECRET_KEYS})['\"]\s*:\s*)(['\"])(?:\\.|(?!\2).)*\2"
)
# Unquoted key: value / key=value (YAML kubeconfig lines, query strings, CLI args).
_PLAIN_KV_RE = re.compile(
    rf"(?i)(?<![\w-])((?:{_SECRET_KEYS})\s*[:=]\s*)(?!\*\*\*)(?!['\"])[^\s,;&'\"}}\]]+"
)
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?")


def redact(text: str) -> str:
    """Remove credentials from ``text``.

    Redacts PEM blocks (private keys and certificates), ``Authorization`` header values
    (``Bearer``/``Basic`` and others), token/password style key-value pairs in JSON, YAML,
    query strings and Python reprs, kubeconfig ``client-key-data``/``client-certificate-data``
    fields, and JWT-looking strings (``eyJ...``). Each secret is replaced by ``***``.

    Args:
        text: Any text that may contain credentials.

    Returns:
        The text with secrets replaced by ``***``; unchanged if nothing matched.
    """
    if not text:
        return text
    out = _PEM_RE.sub(lambda m: f"-----BEGIN {m.group(1)}-----{REDACTED}-----END {m.group(1)}-----", text)
    out = _BEARER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", out)
    out = _AUTH_HEADER_RE.sub(lambda m: f"{m.group(1)}{REDACTED}", out)
    out = _QUOTED_KV_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", out)
    out = _PLAIN_KV_RE.sub(lambda m: f"{m.group(1)}{REDACTED}", out)
    out = _JWT_RE.sub(REDACTED, out)
    return out


class RedactingFilter(logging.Filter):
    """Logging filter that redacts credentials from each record before it is formatted.

    The record's message is rendered (``msg % args``), redacted and stored back with empty
    ``args``; exception and stack text is redacted by pre-rendering it into ``exc_text`` /
    ``stack_info``. The filter never drops records.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place.

        Args:
            record: The log record about to be emitted.

        Returns:
            Always True (the record is kept).
        """
        try:
            message = record.getMessage()
        except Exception:  # a malformed %-format must not lose the record
            message = f"{record.msg!r} % {record.args!r}"
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    value = logging.getLevelName(level.strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level: {level!r}")
    return value


def setup_logging(
    level: str = "INFO",
    *,
    to_file: bool = True,
    log_dir: Path | None = None,
) -> Path | None:
    """Configure the root logger for the application.

    Installs a rotating file handler (1 MB x 5 backups) in the log directory at ``level`` and a
    stderr handler for WARNING and above, both with the same format and a
    :class:`RedactingFilter`. Handlers installed by an earlier call are replaced, handlers added
    by others (e.g. pytest's caplog) are left alone. The ``kubernetes`` and ``urllib3`` loggers
    are set to WARNING unless ``level`` is DEBUG.

    Args:
        level: Level name such as ``"DEBUG"`` or ``"info"`` (the ``--log-level`` value).
        to_file: Whether to log to a file; if False only stderr is configured.
        log_dir: Directory for the log file; defaults to :func:`log_dir`.

    Returns:
        The path of the log file, or None if file logging is disabled or the directory could
        not be created (a warning is then logged to stderr).

    Raises:
        ValueError: If ``level`` is not a known logging level name.
    """
    numeric = _level_number(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OWNED, False):
            root.removeHandler(handler)
            handler.close()

    formatter = logging.Formatter(LOG_FORMAT, DATE_FORMAT)
    redactor = RedactingFilter()

    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(max(logging.WARNING, numeric))
    _own(stderr_handler, formatter, redactor)
    root.addHandler(stderr_handler)

    log_file: Path | None = None
    file_error: OSError | None = None
    if to_file:
        directory = log_dir if log_dir is not None else _platform_log_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            log_file = directory / LOG_FILE_NAME
            from logging.handlers import RotatingFileHandler  # and pickle with it: only where a log file is written

            file_handler = RotatingFileHandler(
                log_file, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
            )
        except OSError as exc:
            log_file, file_error = None, exc
        else:
            file_handler.setLevel(numeric)
            _own(file_handler, formatter, redactor)
            root.addHandler(file_handler)

    root.setLevel(numeric)
    quiet = logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(quiet, numeric))
    logging.captureWarnings(True)

    if file_error is not None:
        logging.getLogger(__name__).warning("file logging disabled: %s", file_error)
    return log_file


def _own(handler: logging.Handler, formatter: logging.Formatter, redactor: logging.Filter) -> None:
    handler.setFormatter(formatter)
    handler.addFilter(redactor)
    setattr(handler, _OWNED, True)


#: The logger every write to a cluster is recorded on (``kube/writes.py``).
WRITES_LOGGER = "kube9_desktop.kube.writes"


class FirstWriteFileHandler(logging.Handler):
    """The app's log file, opened when the first record arrives: a headless ``--run`` keeps its writes in the same
    file as the window while the runs that write nothing (most: ``help``, ``logs``, ``overview``) import neither
    the rotating handler (with pickle) nor platformdirs, and create no file.

    Args:
        level: The lowest level recorded.
        directory: Where the log file goes (default: :func:`log_dir`).
    """

    def __init__(self, level: int, directory: Path | None = None) -> None:
        super().__init__(level)
        self.directory = directory
        self.target: logging.Handler | None = None
        self.failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.target is None and not self.failed:
            directory = self.directory if self.directory is not None else _platform_log_dir()
            try:
                directory.mkdir(parents=True, exist_ok=True)
                from logging.handlers import RotatingFileHandler

                self.target = RotatingFileHandler(directory / LOG_FILE_NAME, maxBytes=MAX_BYTES,
                                                  backupCount=BACKUP_COUNT, encoding="utf-8")
            except OSError:
                self.failed = True  # the run goes on: a log that cannot be written must not stop a write
                return
            self.target.setFormatter(self.formatter)
        if self.target is not None:
            self.target.emit(record)

    def close(self) -> None:
        if self.target is not None:
            self.target.close()
        super().close()


def log_writes_to_file(level: str = "INFO", directory: Path | None = None) -> FirstWriteFileHandler:
    """Record the writes to clusters (:data:`WRITES_LOGGER`) in the app's log file, opened on the first one (the
    headless modes, whose :func:`setup_logging` writes no file)."""
    handler = FirstWriteFileHandler(_level_number(level), directory)
    _own(handler, logging.Formatter(LOG_FORMAT, DATE_FORMAT), RedactingFilter())
    writes = logging.getLogger(WRITES_LOGGER)
    for old in [h for h in writes.handlers if getattr(h, _OWNED, False)]:
        writes.removeHandler(old)
        old.close()
    writes.addHandler(handler)
    return handler
