"""Tests for kube9_desktop.logs: file logging, rotation, levels and credential redaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kube9_desktop import logs

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl"
PEM_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAsupersecretkeymaterialAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    "c2VjcmV0a2V5bWF0ZXJpYWxzZWNyZXRrZXltYXRlcmlhbA==\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.fixture
def clean_root() -> Iterator[None]:
    """Restore the root logger (handlers, level) and third-party levels after each test."""
    root = logging.getLogger()
    saved_handlers = list(root.handlers)
    saved_level = root.level
    saved_levels = {name: logging.getLogger(name).level for name in logs.NOISY_LOGGERS}
    yield
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_dirs_are_platform_dirs() -> None:
    assert "kube9-desktop" in str(logs.log_dir())
    assert "kube9-desktop" in str(logs.config_dir())
    assert logs.log_dir().is_absolute() and logs.config_dir().is_absolute()


def test_setup_writes_file_in_given_dir(tmp_path: Path, clean_root: None) -> None:
    path = logs.setup_logging("INFO", log_dir=tmp_path / "nested")
    assert path == tmp_path / "nested" / logs.LOG_FILE_NAME
    logging.getLogger("kube9.test").info("hello %s", "world")
    _flush()
    text = path.read_text(encoding="utf-8")
    assert "hello world" in text
    assert "INFO" in text and "kube9.test" in text


def test_no_file_when_disabled(tmp_path: Path, clean_root: None) -> None:
    assert logs.setup_logging("INFO", to_file=False, log_dir=tmp_path) is None
    assert not any(tmp_path.iterdir())


def test_level_is_honoured(tmp_path: Path, clean_root: None) -> None:
    path = logs.setup_logging("WARNING", log_dir=tmp_path)
    assert path is not None
    log = logging.getLogger("kube9.level")
    log.info("quiet-info-line")
    log.warning("loud-warning-line")
    _flush()
    text = path.read_text(encoding="utf-8")
    assert "loud-warning-line" in text
    assert "quiet-info-line" not in text

    path = logs.setup_logging("debug", log_dir=tmp_path)
    assert path is not None
    log.debug("debug-line-now-visible")
    _flush()
    assert "debug-line-now-visible" in path.read_text(encoding="utf-8")


def test_repeated_setup_does_not_duplicate_handlers(tmp_path: Path, clean_root: None) -> None:
    before = len(logging.getLogger().handlers)
    logs.setup_logging("INFO", log_dir=tmp_path)
    logs.setup_logging("INFO", log_dir=tmp_path)
    assert len(logging.getLogger().handlers) == before + 2  # one file + one stderr handler


def test_unknown_level_rejected(clean_root: None) -> None:
    with pytest.raises(ValueError):
        logs.setup_logging("LOUD", to_file=False)


def test_third_party_loggers_quiet_by_default(tmp_path: Path, clean_root: None) -> None:
    logs.setup_logging("INFO", log_dir=tmp_path)
    assert logging.getLogger("kubernetes").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("urllib3").getEffectiveLevel() == logging.WARNING


def test_rotation(tmp_path: Path, clean_root: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = logs.setup_logging("INFO", log_dir=tmp_path)
    assert path is not None
    log = logging.getLogger("kube9.rotate")
    for i in range(400):
        log.info("line %04d %s", i, "x" * 60)
    _flush()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert logs.LOG_FILE_NAME in files
    backups = [name for name in files if name.startswith(logs.LOG_FILE_NAME + ".")]
    assert len(backups) == logs.BACKUP_COUNT
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 2_000 + 200
    assert "line 0399" in path.read_text(encoding="utf-8")


def test_real_handler_defaults() -> None:
    assert logs.MAX_BYTES == 1_000_000
    assert logs.BACKUP_COUNT == 5


def test_redaction_in_file(tmp_path: Path, clean_root: None) -> None:
    path = logs.setup_logging("INFO", log_dir=tmp_path)
    assert path is not None
    log = logging.getLogger("kube9.secrets")
    log.info("request headers: %s", {"Authorization": f"Bearer {JWT}", "Accept": "application/json"})
    log.info("loaded kubeconfig user token: %s", "s3cr3t-static-token-value")
    log.info('exec credential: {"kind": "ExecCredential", "status": {"token": "plain-secret-123"}}')
    log.info("client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==")
    log.info("key file contents:\n%s", PEM_KEY)
    log.info("raw jwt %s seen", JWT)
    try:
        raise RuntimeError(f"auth failed with token={JWT}")
    except RuntimeError:
        log.exception("boom")
    _flush()
    text = path.read_text(encoding="utf-8")

    for secret in (
        JWT,
        "s3cr3t-static-token-value",
        "plain-secret-123",
        "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==",
        "supersecretkeymaterial",
        "c2VjcmV0a2V5bWF0ZXJpYWxzZWNyZXRrZXltYXRlcmlhbA==",
        "eyJ",
    ):
        assert secret not in text, f"{secret[:20]}... leaked into the log file"
    assert "Bearer ***" in text
    assert "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----" in text
    assert "application/json" in text  # non-secret context survives
    assert "raw jwt *** seen" in text
    assert "RuntimeError" in text  # the traceback is still logged


def test_filter_is_on_every_handler(tmp_path: Path, clean_root: None) -> None:
    logs.setup_logging("INFO", log_dir=tmp_path)
    owned = [h for h in logging.getLogger().handlers if getattr(h, "_kube9_owned", False)]
    assert len(owned) == 2
    for handler in owned:
        assert any(isinstance(f, logs.RedactingFilter) for f in handler.filters)


def test_stderr_only_warnings(tmp_path: Path, clean_root: None, capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup_logging("DEBUG", log_dir=tmp_path)
    log = logging.getLogger("kube9.stderr")
    log.info("info-not-on-stderr")
    log.warning("warn-on-stderr token=abc123")
    err = capsys.readouterr().err  # the handler bound capsys's sys.stderr at setup time
    assert "info-not-on-stderr" not in err
    assert "warn-on-stderr token=***" in err
    assert "abc123" not in err


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
        ("authorization: Token xyz", "authorization: ***"),
        ("https://host/api?token=abc&watch=1", "https://host/api?token=***&watch=1"),
        ('{"token": "abc"}', '{"token": "***"}'),
        ("    token: abc", "    token: ***"),
        ("  client-certificate-data: LS0tQ0VSVA==", "  client-certificate-data: ***"),
        ("password=hunter2 user=bob", "password=*** user=bob"),
        ("tokens: 5, kind=Secret name=db", "tokens: 5, kind=Secret name=db"),
        ("nothing to see", "nothing to see"),
        ("", ""),
    ],
)
def test_redact_cases(raw: str, expected: str) -> None:
    assert logs.redact(raw) == expected


def test_redact_pem_certificate() -> None:
    cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"
    out = logs.redact(f"ca: {cert} tail")
    assert "MIIBszCCAVmgAwIBAgIU" not in out
    assert out.endswith(" tail")


def test_writes_file_is_opened_by_the_first_write_and_redacted(tmp_path: Path, clean_root: None) -> None:
    """Headless --run: no file until a write is logged; then the write is in it, its credentials redacted."""
    logs.setup_logging("INFO", to_file=False)
    handler = logs.log_writes_to_file("INFO", directory=tmp_path / "log")
    writes = logging.getLogger(logs.WRITES_LOGGER)
    try:
        logging.getLogger("kube9_desktop.kube.client").info("a read, not a write")
        assert not (tmp_path / "log").exists()
        writes.info("write context=c verb=delete object=pods a/b result=200 Authorization: Bearer %s", JWT)
        handler.flush()
        text = (tmp_path / "log" / logs.LOG_FILE_NAME).read_text()
        assert "verb=delete object=pods a/b result=200" in text and JWT not in text and "a read" not in text
        assert logs.log_writes_to_file("INFO", directory=tmp_path / "log") is not handler
        assert len([h for h in writes.handlers if isinstance(h, logs.FirstWriteFileHandler)]) == 1  # replaced
    finally:
        for h in list(writes.handlers):
            writes.removeHandler(h)
            h.close()
