"""The case page reads each step's records and the case's log once (on_file.py), and every answer
taken from those rows is the one the database would give: after a write, a rollback or a new record."""

from sqlalchemy import event, select

from tests.conftest import login
from tests.factories import ANALYSIS, open_case, to_step
from ticketing.cases import fair_offers, on_file, rework, services, survey
from ticketing.cases.case_file import case_file
from ticketing.cases.records import AnalysisRecord, FollowUpRecord, ReviewRecord
from ticketing.cases.services.escalation import latest_escalation
from ticketing.extensions import db


def _returned_and_escalated(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="Kettle replaced", lesson="Check the seals")
    services.return_review(ticket, supervisor, version=ticket.version, return_to="follow_up", reason="Call again")
    db.session.commit()
    services.escalate_case(ticket, agent, version=ticket.version, reason="The customer called twice", priority="high")
    db.session.commit()
    return ticket


def _reads_of(client, path) -> tuple[str, dict[str, int]]:
    """The page, and how many statements read each table (by the table their columns come from)."""
    reads: dict[str, int] = {}

    def remember(conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        if words[0] == "SELECT" and "." in words[1]:
            table = words[1].split(".")[0]
            reads[table] = reads.get(table, 0) + 1

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        page = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert page.status_code == 200
    return page.get_data(as_text=True), reads


def test_the_case_page_reads_each_record_and_the_log_once_and_shows_the_latest(client, agent, supervisor):
    ticket = _returned_and_escalated(agent, supervisor)
    login(client, agent.email)
    page, reads = _reads_of(client, f"/tickets/{ticket.reference}")
    assert f"Returned by {supervisor.name}" in page and "Call again" in page  # the latest review
    assert "The customer called twice" in page  # the latest escalation, from the log
    for table in ("listen_records", "analysis_records", "follow_up_records", "review_records", "events"):
        assert reads.get(table) == 1, (table, reads)


def test_answers_from_the_kept_rows_follow_what_the_request_writes_and_undoes(app, agent, supervisor):
    ticket = _returned_and_escalated(agent, supervisor)
    with app.test_request_context():
        case_file(ticket)
        first = rework.latest(FollowUpRecord, ticket)
        assert on_file.kept(FollowUpRecord, ticket.id) == [first]
        assert latest_escalation(ticket).changes["reason"][1] == "The customer called twice"
        assert fair_offers.responsibility_found(ticket) == "company"

        # A record added and not yet flushed: the question flushes it first, as its query would have.
        shared = {**ANALYSIS, "responsibility": "shared"}
        db.session.add(AnalysisRecord(ticket_id=ticket.id, analysed_by_id=agent.id, **shared))
        assert on_file.kept(AnalysisRecord, ticket.id) is None
        assert fair_offers.responsibility_found(ticket) == "shared"

        # Undone: the kept rows are forgotten with the transaction, and the database answers again.
        db.session.rollback()
        case_file(ticket)
        assert fair_offers.responsibility_found(ticket) == "company"
        db.session.rollback()
        assert on_file.kept(ReviewRecord, ticket.id) is None

        # Outside the case file nothing is kept: each question asks the database itself.
        assert (
            survey.survey_due(ticket)
            == db.session.scalars(
                select(FollowUpRecord).where(FollowUpRecord.ticket_id == ticket.id).order_by(FollowUpRecord.id.desc())
            ).first()
        )
