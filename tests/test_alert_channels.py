"""Alert channels against real receivers on 127.0.0.1: what arrives, what a failure says, and
that no secret leaks into a message, a log record or an exception."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.receivers import (
    SMTP_USER,
    SmtpServer,
    WebhookReceiver,
    free_port,
    http_receiver,
    smtp_receiver,
    smtp_server,
    webhook_receiver,
)

from pipeline.alerts.channels import ConsoleChannel, JsonlChannel, build_channel
from pipeline.alerts.config import AlertChannel
from pipeline.alerts.message import Message, render_alert
from pipeline.alerts.urls import redact
from pipeline.errors import ConfigError, DeliveryError, DeliveryUnknown
from pipeline.models import Alert, AlertTag, StoryMember

__all__ = ["http_receiver", "smtp_receiver"]  # fixtures, used by name

SECRET = "s3cr3t-Pa55-xyz"
NOW = datetime(2025, 11, 19, 8, 30, tzinfo=UTC)
URL = "https://www.sfc.hk/en/news/25PR180"


def message(title: str = "[Update] SFC licenses first stablecoin dealer") -> Message:
    return render_alert(
        Alert(
            id=7,
            key="nw-00aa11bb22cc33dd44ee",
            story_id=3,
            article_id=9,
            channel="hook",
            rules=("regulator-new-item",),
            rule_descriptions=("Every new item from an HKMA or SFC source",),
            title=title,
            source_id="sfc-news",
            url=URL,
            published_at=NOW,
            created_at=NOW,
            severity="high",
            doc_type="press_release",
            language="en",
            regulator=True,
            snippet="The SFC today granted a licence.",
            tags=(AlertTag("entity", "sfc", "SFC", "The SFC granted it."),),
            members=(StoryMember(9, "sfc-news", title, URL, "en", NOW),),
        )
    )


def send(url: str, *, timeout: float = 5.0, secrets: tuple[str, ...] = ()) -> None:
    channel = build_channel(
        AlertChannel(id="hook", kind="apprise", url=url, timeout=timeout, secrets=secrets)
    )
    channel.send(message())


# ─── e-mail ─────────────────────────────────────────────────────────────────────────────────


def test_mail_arrives_with_text_and_html_and_the_same_message_id_on_a_resend(
    smtp_receiver: SmtpServer,
) -> None:
    channel = build_channel(AlertChannel(id="desk", kind="apprise", url=smtp_receiver.url()))
    sent = message()
    channel.send(sent)
    channel.send(sent)
    assert smtp_receiver.logins == [(SMTP_USER, True), (SMTP_USER, True)]
    first, second = smtp_receiver.mails
    assert first.login == SMTP_USER
    assert first.rcpt_tos == ("desk@example.org",)
    mail = first.message
    assert mail["Message-ID"] == "<nw-00aa11bb22cc33dd44ee@newswatch>"
    assert second.message["Message-ID"] == mail["Message-ID"]
    assert len(mail.get_all("Message-ID") or []) == 1
    assert mail["Subject"] == sent.subject
    assert mail["From"].addresses[0].addr_spec == "newswatch@example.org"
    assert mail["To"].addresses[0].addr_spec == "desk@example.org"
    assert mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "[Update] SFC licenses first stablecoin dealer" in text.get_content()
    assert "2025-11-19 16:30 HKT" in text.get_content()
    assert f'href="{URL}"' in html.get_content()


def test_mail_with_a_wrong_password_fails_without_showing_it(smtp_receiver: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as caught:
        send(smtp_receiver.url(password=SECRET), secrets=(SECRET,))
    assert type(caught.value) is DeliveryError
    assert "535" in str(caught.value) and "login" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert smtp_receiver.mails == []


def test_mail_without_an_answer_after_the_data_is_of_unknown_outcome() -> None:
    with smtp_server(data_delay=2.0) as server:
        with pytest.raises(DeliveryUnknown, match="outcome unknown"):
            send(server.url(), timeout=1.0)
        assert len(server.mails) == 1


def test_secret_of_a_mail_url_appears_in_no_message_log_or_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # An earlier CLI run in the same process may have set newswatch's loggers to WARNING.
    caplog.set_level(logging.DEBUG, logger="pipeline")
    url = f"mailtos://desk:{SECRET}@127.0.0.1:{free_port()}?from=newswatch@example.org"
    with pytest.raises(DeliveryError) as caught:
        send(url, timeout=2.0)
    error = caught.value
    assert type(error) is DeliveryError
    assert "Connection refused" in str(error) and "'hook'" in str(error)
    assert "s3cr3t" not in str(error) and "s3cr3t" not in repr(error)
    assert error.__cause__ is None and error.__suppress_context__
    assert caplog.records, "the capture should have seen Apprise's records, redacted"
    for record in caplog.records:
        assert "s3cr3t" not in record.getMessage(), record.getMessage()


@pytest.mark.parametrize(
    "url",
    [
        f"mailtos://desk:{SECRET}@",
        f"mailtos://desk:{SECRET}@example.org?mode=bogus",
        f"nosuchservice://desk:{SECRET}@example.org",
        f"json://desk:{SECRET}@",
    ],
)
def test_an_unreadable_url_is_a_config_error_without_the_secret(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as caught:
        build_channel(AlertChannel(id="desk", kind="apprise", url=url, secrets=(SECRET,)))
    assert "'desk'" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    for record in caplog.records:
        assert "s3cr3t" not in record.getMessage(), record.getMessage()


def test_a_channel_with_a_problem_is_a_config_error_naming_it() -> None:
    config = AlertChannel(
        id="desk",
        kind="apprise",
        url=f"mailtos://desk:{SECRET}@example.org",
        secrets=(SECRET,),
        problem=f"variable SMTP_PASSWORD is not set (it was {SECRET})",
    )
    with pytest.raises(ConfigError, match="'desk'") as caught:
        build_channel(config)
    assert "s3cr3t" not in str(caught.value)


# ─── webhooks ───────────────────────────────────────────────────────────────────────────────


def test_webhook_gets_the_json_body_and_the_idempotency_key(http_receiver: WebhookReceiver) -> None:
    sent = message()
    send(http_receiver.apprise_url())
    (request,) = http_receiver.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.key == sent.body["alert_id"] == "nw-00aa11bb22cc33dd44ee"
    payload = request.json
    assert payload["title"] == sent.subject
    assert payload["message"] == sent.text.rstrip("\n")
    assert json.loads(payload["newswatch"]) == sent.body
    for name in ("alert_id", "event", "severity", "source", "url", "published_at", "schema"):
        assert payload[name] == sent.body[name], name
    assert payload["story_id"] == "3" and payload["regulator"] == "true"


def test_form_webhook_gets_the_fields_and_the_key(http_receiver: WebhookReceiver) -> None:
    send(http_receiver.apprise_url("form"))
    (request,) = http_receiver.requests
    assert request.key == "nw-00aa11bb22cc33dd44ee"
    assert b"alert_id=nw-00aa11bb22cc33dd44ee" in request.body
    assert b"schema=newswatch.alert%2F1" in request.body


def test_a_refusing_receiver_is_a_delivery_error_with_the_status_and_no_secret(
    http_receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    http_receiver.statuses = [503]
    url = f"json://desk:{SECRET}@127.0.0.1:{http_receiver.port}/hook/{SECRET}"
    with pytest.raises(DeliveryError) as caught:
        send(url, secrets=(SECRET,))
    assert type(caught.value) is DeliveryError
    assert "HTTP 503 Service Unavailable" in str(caught.value)
    assert "'hook'" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    assert len(http_receiver.requests) == 1
    for record in caplog.records:
        assert "s3cr3t" not in record.getMessage(), record.getMessage()
        assert not record.name.startswith(("apprise", "urllib3")), record.name


def test_a_receiver_that_is_down_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError) as caught:
        send(f"json://127.0.0.1:{free_port()}/hook", timeout=2.0)
    assert type(caught.value) is DeliveryError
    assert "Connection refused" in str(caught.value)


def test_a_receiver_slower_than_apprise_default_gets_the_alert_once() -> None:
    # Apprise's own read timeout is 4 s; the channel's 8 s is what counts.
    with webhook_receiver(delay=5.0) as receiver:
        started = time.monotonic()
        send(receiver.apprise_url(), timeout=8.0)
        assert time.monotonic() - started >= 5.0
        assert len(receiver.requests) == 1
        assert receiver.unique_keys() == ["nw-00aa11bb22cc33dd44ee"]


def test_a_receiver_slower_than_the_timeout_is_of_unknown_outcome() -> None:
    with webhook_receiver(delay=2.0) as receiver:
        with pytest.raises(DeliveryUnknown, match="outcome unknown"):
            send(receiver.apprise_url(), timeout=1.0)
        # It arrived: a retry carries the same key, which the receiver can drop.
        assert len(receiver.requests) == 1
        send(receiver.apprise_url(), timeout=5.0)
        assert len(receiver.requests) == 2
        assert len(receiver.delivered()) == 1


def test_apprise_logging_is_left_as_it_was(http_receiver: WebhookReceiver) -> None:
    logger = logging.getLogger("apprise")
    before = (list(logger.handlers), logger.propagate, logger.level)
    send(http_receiver.apprise_url())
    assert (list(logger.handlers), logger.propagate, logger.level) == before


def test_other_services_get_the_subject_and_text(http_receiver: WebhookReceiver) -> None:
    sent = message()
    send(f"ntfy://127.0.0.1:{http_receiver.port}/alerts")
    (request,) = http_receiver.requests
    assert sent.subject in json.dumps(request.json, ensure_ascii=False)
    assert "2025-11-19 16:30 HKT" in request.json["message"]


# ─── console and JSONL ──────────────────────────────────────────────────────────────────────


def test_console_prints_the_text_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleChannel().send(message())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "[Update] SFC licenses first stablecoin dealer" in captured.err
    assert "2025-11-19 16:30 HKT" in captured.err


def test_jsonl_appends_the_body_without_outbox_state(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "alerts.jsonl"
    channel = build_channel(AlertChannel(id="file", kind="jsonl", path=str(path)))
    sent = message()
    channel.send(sent)
    channel.send(sent)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [sent.body, sent.body]
    assert "pending" not in lines[0]


def test_jsonl_that_cannot_be_written_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "alerts.jsonl").mkdir()
    with pytest.raises(DeliveryError, match=r"alerts\.jsonl"):
        JsonlChannel(tmp_path / "alerts.jsonl").send(message())


WRITER = """
import sys
from pathlib import Path
from pipeline.alerts.channels import JsonlChannel
from pipeline.alerts.message import Message
channel = JsonlChannel(Path(sys.argv[1]))
for n in range(150):
    channel.send(Message(f"{sys.argv[2]}-{n}", "", "", "", {"n": n, "pad": sys.argv[2] * 20000}))
"""


def test_two_processes_appending_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name]) for name in "ab"]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 300
    assert all(json.loads(line)["pad"] in ("a" * 20000, "b" * 20000) for line in lines)


# ─── redaction ──────────────────────────────────────────────────────────────────────────────


def test_redact_masks_secrets_in_every_spelling_and_any_userinfo() -> None:
    secret = "p@ss/word&1"
    text = (
        "p@ss/word&1 | p%40ss%2Fword%261 | p%40ss/word%261 | p%40ss%2Fword%261 "
        "| mailtos://someone:other@host.example:465 | json://TOKEN@hook.example/x"
    )
    shown = redact(text, [secret])
    assert "p@ss" not in shown and "p%40ss" not in shown
    assert "other" not in shown and "TOKEN" not in shown
    assert "mailtos://***@host.example:465" in shown
    assert "json://***@hook.example/x" in shown
