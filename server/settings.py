"""Settings, read once from the environment into one struct."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Literal

import msgspec

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service reads from its environment."""

    database_url: str
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    mail_from: str = "Zesummen <noreply@zesummen.lu>"
    demo_data: bool = False
    db_pool_min: int = 2
    db_pool_max: int = 10
    # a request body that has not arrived in full after this is refused (408) before any handler runs
    body_timeout: timedelta = timedelta(seconds=10)
    # registrations
    hold_duration: timedelta = timedelta(hours=2)
    anonymise_after: timedelta = timedelta(days=90)
    token_ttl: timedelta = timedelta(days=30)
    # abuse: registration requests per client address and per email address in each window, and the
    # mails a stranger can cause to one address per day (tests and benchmarks raise them)
    rate_limit_window: timedelta = timedelta(minutes=10)
    rate_limit_per_address: int = 30
    rate_limit_per_email: int = 5
    mail_cap_per_day: int = 20
    # sign-ins (login, password change, the invitation's password form): failures per account and
    # per client address in each window; past either, even the right password waits for the window
    sign_in_window: timedelta = timedelta(minutes=15)
    sign_in_failures_per_account: int = 10
    sign_in_failures_per_address: int = 30
    # how long the link of an invitation to a staff account works
    invitation_ttl: timedelta = timedelta(hours=48)
    # a back-office session unused this long ends (each use pushes its end further); a reset link's life
    session_ttl: timedelta = timedelta(hours=12)
    password_reset_ttl: timedelta = timedelta(hours=1)
    # how long a registration waits for the lock on its event before answering 503
    lock_timeout: timedelta = timedelta(seconds=5)
    # reverse proxies (addresses or networks) whose X-Forwarded-For names the real client
    trusted_proxies: tuple[str, ...] = ()
    # notifier: messages in flight (and SMTP connections) per worker copy; how long a claimed message
    # stays with its worker before another may take it (a crashed worker's mail comes back after it);
    # the polling fallback of LISTEN/NOTIFY; how often the periodic jobs run
    notifier_concurrency: int = 4
    notifier_lease: timedelta = timedelta(minutes=5)
    notifier_poll_interval: timedelta = timedelta(seconds=5)
    notifier_housekeeping_every: timedelta = timedelta(seconds=30)
    # the pauses before each new attempt after a temporary SMTP failure; empty: the built-in schedule
    # (server/notifications/worker.py RETRY_DELAYS, 30 s growing to hourly for a day). Tests shorten it.
    notifier_retry_delays: tuple[timedelta, ...] = ()
    # the whole of one message's SMTP exchange, connecting included (aiosmtplib's own is per operation)
    smtp_timeout: timedelta = timedelta(seconds=60)
    # a reminder later than this after its moment (the notifier was away) is skipped, not sent
    reminder_grace: timedelta = timedelta(minutes=15)
    # commune requests: the organisation a request is for when it names none (the intercultural agency),
    # how far ahead a preferred date must be, and requests per client address and per email in each
    # rate-limit window
    agency_organisation: str = "asti"
    commune_request_lead_time: timedelta = timedelta(days=21)
    commune_requests_per_address: int = 10
    commune_requests_per_email: int = 5
    # who may frame a commune's embeddable list (CSP frame-ancestors); every other page refuses framing
    embed_frame_ancestors: str = "*"
    # where the local mail catcher writes each message as an .eml file when SMTP_HOST is unset
    mail_dir: str = str(DATA_DIR / "mail")

    @property
    def base(self) -> str:
        """BASE_URL without a trailing slash, for building links."""
        return self.base_url.rstrip("/")


def _secret_key() -> str:
    """SECRET_KEY, or one kept under .data/ so that links survive a restart in development."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; keyword arguments win (used by tests)."""
    env = os.environ
    raw: dict[str, object] = {
        "database_url": env.get("DATABASE_URL", ""),
        "base_url": env.get("BASE_URL") or f"http://{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '8000')}",
        "host": env.get("HOST", "127.0.0.1"),
        "port": env.get("PORT", "8000"),
        "smtp_host": env.get("SMTP_HOST") or None,
        "smtp_port": env.get("SMTP_PORT", "25"),
        "smtp_user": env.get("SMTP_USER") or None,
        "smtp_password": env.get("SMTP_PASSWORD") or None,
        "smtp_tls": env.get("SMTP_TLS", "none"),
        "mail_from": env.get("MAIL_FROM", "Zesummen <noreply@zesummen.lu>"),
        "demo_data": env.get("DEMO_DATA", "0"),
    }
    # optional tuning: durations in ISO 8601 (`PT2H`, `P90D`) or seconds, counts as integers
    for name in (
        "HOLD_DURATION",
        "ANONYMISE_AFTER",
        "RATE_LIMIT_WINDOW",
        "RATE_LIMIT_PER_ADDRESS",
        "RATE_LIMIT_PER_EMAIL",
        "MAIL_CAP_PER_DAY",
        "LOCK_TIMEOUT",
        "BODY_TIMEOUT",
        "DB_POOL_MIN",
        "DB_POOL_MAX",
        "SIGN_IN_WINDOW",
        "SIGN_IN_FAILURES_PER_ACCOUNT",
        "SIGN_IN_FAILURES_PER_ADDRESS",
    ):
        if env.get(name):
            raw[name.lower()] = env[name]
    if env.get("TRUSTED_PROXIES"):
        raw["trusted_proxies"] = [p.strip() for p in env["TRUSTED_PROXIES"].split(",") if p.strip()]
    for name in (
        "NOTIFIER_CONCURRENCY",
        "NOTIFIER_LEASE",
        "NOTIFIER_POLL_INTERVAL",
        "NOTIFIER_HOUSEKEEPING_EVERY",
        "SMTP_TIMEOUT",
        "REMINDER_GRACE",
        "MAIL_DIR",
        "AGENCY_ORGANISATION",
        "COMMUNE_REQUEST_LEAD_TIME",
        "COMMUNE_REQUESTS_PER_ADDRESS",
        "COMMUNE_REQUESTS_PER_EMAIL",
        "EMBED_FRAME_ANCESTORS",
    ):
        if env.get(name):
            raw[name.lower()] = env[name]
    if env.get("NOTIFIER_RETRY_DELAYS"):
        raw["notifier_retry_delays"] = [d.strip() for d in env["NOTIFIER_RETRY_DELAYS"].split(",") if d.strip()]
    if "secret_key" not in overrides:
        raw["secret_key"] = _secret_key()
    raw.update(overrides)
    if not raw["database_url"]:
        raise SystemExit("DATABASE_URL is not set: start through `make run`, which provides a local PostgreSQL")
    # strict=False lets "8000" become an int and "1" a bool, as environment values are text
    return msgspec.convert(raw, Settings, strict=False)
