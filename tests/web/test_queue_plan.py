"""The team queue is read from an index a page at a time, whatever the sort: the database never
sorts every open case to show a page (what made the queue slow at a million cases)."""

import pytest
from sqlalchemy import event

from tests.conftest import login
from tests.factories import open_case
from ticketing.extensions import db


@pytest.mark.parametrize(
    "sort", ["due", "due_last", "newest", "oldest", "priority", "priority_low", "updated", "updated_least"]
)
def test_the_team_queue_reads_its_page_from_an_index(app, client, agent, supervisor, sort):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's (PostgreSQL chooses by its statistics)")
    for _ in range(3):
        open_case(agent)
    login(client, supervisor.email)
    queries = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT tickets.id, tickets.reference"):
            queries.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        page = client.get(f"/queue?view=team&sort={sort}")
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert page.status_code == 200 and page.get_data(as_text=True).count("<strong>C-") == 3
    statement, parameters = queries[0]
    rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    plan = " | ".join(row[-1] for row in rows)
    assert "USING INDEX ix_tickets_status_" in plan or "USING COVERING INDEX ix_tickets_status_" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
