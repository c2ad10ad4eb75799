"""Alert and digest messages: every fact a compliance desk acts on, the same in text and HTML,
escaped where the sites wrote it, and a JSON body with stable field names."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

from pipeline.alerts.message import render_alert, render_digest
from pipeline.models import Alert, AlertTag, Digest, StoryMember

# 08:30 UTC is 16:30 in Hong Kong.
PUBLISHED = datetime(2025, 11, 19, 8, 30, tzinfo=UTC)
CREATED = datetime(2025, 11, 19, 8, 45, tzinfo=UTC)
EN_URL = "https://www.sfc.hk/en/news/25PR180"
TC_URL = "https://www.sfc.hk/tc/news/25PR180"
OUTLET_URL = "https://news.example.com/sfc-stablecoin"
TC_TITLE = "證監會向首家穩定幣交易商發牌"
OUTLET_TITLE = "Hong Kong's SFC licenses a stablecoin dealer"


def members() -> tuple[StoryMember, ...]:
    outlet_time = datetime(2025, 11, 19, 10, 0, tzinfo=UTC)
    return (
        StoryMember(
            11, "sfc-news", "SFC licenses first stablecoin dealer", EN_URL, "en", PUBLISHED
        ),
        StoryMember(12, "sfc-news-tc", TC_TITLE, TC_URL, "zh-hant", PUBLISHED, "translation"),
        StoryMember(
            13, "fintechnews-hk", OUTLET_TITLE, OUTLET_URL, "en", outlet_time, "same_story"
        ),
    )


def make_alert(**changes: object) -> Alert:
    alert = Alert(
        id=5,
        key="nw-0123456789abcdef0123",
        story_id=40,
        article_id=11,
        channel="desk-mail",
        rules=("regulator-new-item", "stablecoins"),
        rule_descriptions=("Every new item from an HKMA or SFC source", "Anything on stablecoins"),
        title="SFC licenses first stablecoin dealer",
        source_id="sfc-news",
        url=EN_URL,
        published_at=PUBLISHED,
        created_at=CREATED,
        severity="high",
        doc_type="press_release",
        language="en",
        regulator=True,
        snippet="The Securities and Futures Commission today granted a licence.",
        tags=(
            AlertTag("entity", "sfc", "Securities and Futures Commission", "The SFC granted it."),
            AlertTag("topic", "stablecoins", "Stablecoins", "Stablecoin dealers need a licence."),
        ),
        members=members(),
    )
    return replace(alert, **changes)  # type: ignore[arg-type]


def test_subject_is_one_line_with_severity_origin_and_title() -> None:
    message = render_alert(make_alert(title="SFC licenses\nfirst stablecoin dealer"))
    assert message.subject == "[HIGH] SFC: SFC licenses first stablecoin dealer"
    assert message.key == "nw-0123456789abcdef0123"


def test_normal_severity_is_not_flagged_and_an_update_says_so() -> None:
    assert render_alert(make_alert(severity="normal")).subject.startswith("SFC: ")
    update = render_alert(make_alert(event="update:5f3a"))
    assert update.subject == "[HIGH] SFC update: SFC licenses first stablecoin dealer"
    assert "update" in update.text
    assert update.body["event"] == "update"


def test_a_news_outlet_is_named_by_its_source_not_the_regulator_it_covers() -> None:
    alert = make_alert(source_id="fintechnews-hk", regulator=False, severity="normal")
    assert render_alert(alert).subject.startswith("fintechnews-hk: ")


def test_text_and_html_carry_the_same_facts() -> None:
    message = render_alert(make_alert())
    facts = [
        "SFC licenses first stablecoin dealer",
        "sfc-news",
        "2025-11-19 16:30 HKT",
        "press release",
        "high",
        "regulator-new-item",
        "Every new item from an HKMA or SFC source",
        "stablecoins",
        "Anything on stablecoins",
        "The SFC granted it.",
        "Stablecoin dealers need a licence.",
        "Securities and Futures Commission",
        "證監會向首家穩定幣交易商發牌",
        "Traditional Chinese (zh-hant)",
        "translation",
        "fintechnews-hk",
        "2025-11-19 18:00 HKT",
        EN_URL,
        TC_URL,
        OUTLET_URL,
        "The Securities and Futures Commission today granted a licence.",
        "new item",
    ]
    for fact in facts:
        assert fact in message.text, fact
        assert fact in message.html, fact


def test_html_escapes_what_the_sites_wrote() -> None:
    alert = make_alert(
        title="<script>alert(1)</script> & more",
        snippet='<img src=x onerror="steal()">',
        tags=(AlertTag("topic", "t", "<b>bold</b>", "</li><script>x</script>"),),
        url="javascript:alert(1)",
    )
    html = render_alert(alert).html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<img" not in html and "&lt;img" in html
    assert "<b>bold</b>" not in html
    # A URL that is not http(s) is shown, never linked.
    assert 'href="javascript:' not in html


def test_json_body_fields_and_schema() -> None:
    body = render_alert(make_alert()).body
    assert body["schema"] == "newswatch.alert/1"
    assert body["alert_id"] == "nw-0123456789abcdef0123"
    assert body["rules"] == ["regulator-new-item", "stablecoins"]
    assert body["published_at"] == "2025-11-19T16:30:00+08:00"
    assert body["event"] == "new"
    assert (body["story_id"], body["article_id"], body["channel"]) == (40, 11, "desk-mail")
    assert (body["doc_type"], body["language"], body["regulator"]) == ("press_release", "en", True)
    assert body["tags"] == [
        {
            "kind": "entity",
            "id": "sfc",
            "name": "Securities and Futures Commission",
            "evidence": "The SFC granted it.",
        },
        {
            "kind": "topic",
            "id": "stablecoins",
            "name": "Stablecoins",
            "evidence": "Stablecoin dealers need a licence.",
        },
    ]
    versions = body["versions"]
    assert isinstance(versions, list)
    assert [v["role"] for v in versions] == ["lead", "translation", "same_story"]
    assert versions[1] == {
        "article_id": 12,
        "source": "sfc-news-tc",
        "title": "證監會向首家穩定幣交易商發牌",
        "url": TC_URL,
        "language": "zh-hant",
        "published_at": "2025-11-19T16:30:00+08:00",
        "role": "translation",
    }
    # No outbox state: a JSONL line written on delivery must not say "pending".
    assert not {"status", "attempts", "last_error", "sent_at"} & set(body)
    assert "pending" not in json.dumps(body)


def test_an_alert_without_members_lists_its_own_article() -> None:
    body = render_alert(make_alert(members=())).body
    assert body["versions"] == [
        {
            "article_id": 11,
            "source": "sfc-news",
            "title": "SFC licenses first stablecoin dealer",
            "url": EN_URL,
            "language": "en",
            "published_at": "2025-11-19T16:30:00+08:00",
            "role": "lead",
        }
    ]


def digest() -> Digest:
    hkma = make_alert(
        id=1, story_id=1, article_id=1, source_id="hkma-press", title="HKMA tokenised deposits",
        url="https://www.hkma.gov.hk/1", severity="normal",
        tags=(AlertTag("topic", "tokenisation", "Tokenisation", "Tokenised deposits."),),
        members=(),
    )  # fmt: skip
    joint = make_alert(
        id=2, story_id=2, article_id=2, source_id="sfc-news", title="Joint statement",
        url="https://www.sfc.hk/2", severity="normal",
        tags=(
            AlertTag("entity", "hkma", "HKMA", "The HKMA and the SFC said."),
            AlertTag("topic", "stablecoins", "Stablecoins", "Stablecoins."),
            AlertTag("topic", "tokenisation", "Tokenisation", "Tokenised funds."),
        ),
        members=(),
    )  # fmt: skip
    outlet = make_alert(
        id=3, story_id=3, article_id=3, source_id="fintechnews-hk", regulator=False,
        title="A fintech round-up", url="https://news.example.com/3", severity="normal",
        tags=(), members=(),
    )  # fmt: skip
    # The joint statement's Chinese version, alerted on the same story: listed once.
    joint_tc = replace(joint, id=4, article_id=4, title="聯合聲明")
    return Digest(
        key="nw-digest0123456789abcd",
        rule="daily-digest",
        channel="desk-mail",
        day=date(2025, 11, 19),
        severity="normal",
        rule_description="Everything of the day, once",
        alerts=(hkma, joint, outlet, joint_tc),
    )


def test_digest_groups_by_regulator_then_topic() -> None:
    message = render_digest(digest())
    assert message.subject == "newswatch digest: daily-digest — 2025-11-19 (3 stories)"
    assert message.key == "nw-digest0123456789abcd"
    body = message.body
    assert body["schema"] == "newswatch.digest/1"
    assert (body["digest_id"], body["rule"], body["day"]) == (
        "nw-digest0123456789abcd",
        "daily-digest",
        "2025-11-19",
    )
    groups = body["groups"]
    assert isinstance(groups, list)
    layout = [
        (group["regulator"], group["topic"], [a["title"] for a in group["alerts"]])
        for group in groups
    ]
    assert layout == [
        ("HKMA", "stablecoins", ["Joint statement"]),
        ("HKMA", "tokenisation", ["HKMA tokenised deposits", "Joint statement"]),
        ("SFC", "stablecoins", ["Joint statement"]),
        ("SFC", "tokenisation", ["Joint statement"]),
        ("other", "other", ["A fintech round-up"]),
    ]
    assert groups[0]["alerts"][0]["schema"] == "newswatch.alert/1"


def test_digest_text_and_html_list_every_story_with_time_and_link() -> None:
    message = render_digest(digest())
    for text in (message.text, message.html):
        for fact in (
            "HKMA", "SFC", "other", "Stablecoins", "Tokenisation", "Joint statement",
            "HKMA tokenised deposits", "A fintech round-up", "2025-11-19 16:30 HKT",
            "https://www.hkma.gov.hk/1", "https://news.example.com/3",
            "Everything of the day, once",
        ):  # fmt: skip
            assert fact in text, fact
    assert "聯合聲明" not in message.text
    hkma_section = message.text.split("\nSFC\n")[0]
    assert hkma_section.count("Joint statement") == 2  # under each of its two topics
