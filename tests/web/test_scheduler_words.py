"""The scheduler page's "Last result" in the reader's language (ticketing/admin/scheduler_text.py)."""

from tests.conftest import login
from ticketing.extensions import db
from ticketing.scheduling.models import JobRun

KEPT = {
    "dispatch": "sent 1, mailed 2, skipped 0, cancelled 0, retried 0, failed 0",
    "daily_digest": "3 digests queued",
    "early_warning": "not the digest hour",
    "reminder_retention": "5 reminder rows older than 30 days removed; 2 in-app notices kept whole",
    "reports": "1 reports worked out in 0.3 s, 0 failed, 0 forgotten",
    "audit_anchor": "4 cases anchored in anchor-20261201.json; mailed to the auditor",
}


def _page(app, make_user, locale):
    for job_id, result in KEPT.items():
        db.session.merge(JobRun(job_id=job_id, runs=1, last_result=result))
    db.session.commit()
    client = app.test_client()
    login(client, make_user("supervisor", f"{locale}@example.com", "Sup", locale=locale).email)
    return client.get("/admin/scheduler/").get_data(as_text=True)


def test_the_last_results_are_in_chinese_for_a_chinese_reader(app, make_user):
    page = _page(app, make_user, "zh_CN")
    for said in ("已排入 3 份每日摘要", "未到每日摘要的时间", "已清除 5 条超过 30 天的提醒记录", "已发送给审计员"):
        assert said in page, said
    for kept in KEPT.values():
        assert kept not in page, kept


def test_an_english_reader_reads_them_in_good_english(app, make_user):
    page = _page(app, make_user, "en")
    assert "1 report worked out in 0.3 s" in page and "3 digests queued" in page and "mailed to the auditor" in page
