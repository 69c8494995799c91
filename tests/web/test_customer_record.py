"""The customer's record at the desk: what it shows, its edits and their history, merging two records
of one person, and the intake's screen-pop."""

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests.concurrency.test_concurrent_writers import Browser, _all_at_once, _figures, server  # noqa: F401 (server: a fixture)
from tests.conftest import PASSWORD, login
from tests.factories import open_case, to_step
from ticketing.auth.services import create_user
from ticketing.cases import chain, customers, services, winback
from ticketing.cases.audit import Event
from ticketing.cases.calendar import desk_today
from ticketing.cases.customers import CustomerEvent
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.search import documents
from ticketing.cases.survey import answer_survey
from ticketing.clock import utcnow
from ticketing.extensions import db

SURVEY = dict(satisfaction=4, recommend=9, buy_again="yes", fair_outcome=5, fair_process=4, fair_treatment=5)


def _details(customer: Customer, **changes) -> dict:
    data = {
        "version": customer.version,
        "name": customer.name,
        "email": customer.email or "",
        "phone": customer.phone or "",
        "external_id": customer.external_id or "",
        "locale": customer.locale,
        "value_tier": customer.value_tier,
    }
    return {**data, **changes}


def _fields(customer: Customer, **changes) -> dict:
    """The details as a service takes them (the form's data without the version)."""
    return {name: value for name, value in _details(customer, **changes).items() if name != "version"}


def _other(name="Li L.", email="lilei.old@example.com", phone="+86 139 0000 1111"):
    customer = services.find_or_create_customer(name, email, phone)
    db.session.commit()
    return customer


@pytest.fixture
def handled(agent, supervisor):
    """Li Lei with one case carried through resolution (50 CNY refunded), followed up, rated; a second
    case open; and a win-back action a supervisor started."""
    done = to_step(open_case(agent), agent, "review")
    answer_survey(done, comment="Quick and fair", **SURVEY)
    open_case(agent)
    winback.start_win_back(
        done.customer,
        supervisor,
        owner=agent,
        due_date=desk_today(utcnow(), current_app.config) + timedelta(days=3),
        plan="Call with a voucher",
    )
    db.session.commit()
    return done.customer


def test_the_record_shows_cases_compensation_retention_ratings_risk_and_win_back(client, agent, handled):
    login(client, agent.email)
    page = client.get(f"/customers/{handled.id}").get_data(as_text=True)
    references = db.session.scalars(select(Ticket.reference).where(Ticket.customer_id == handled.id)).all()
    assert len(references) == 2 and all(f'href="/tickets/{reference}"' in page for reference in references)
    assert "Leaking kettle" in page and "Open: 2" in page and "Problem solved, customer satisfied" in page
    assert "Compensation granted so far" in page and "CN¥50.00" in page and "Refund" in page
    assert "Follow-ups and retention" in page and "Retained" in page and "5/5" in page
    assert "9/10" in page and "Quick and fair" in page  # the survey's answers
    assert "Risk of leaving" in page and "Two or more complaints in 90 days" in page
    assert "Call with a voucher" in page
    assert 'value="li.lei@example.com"' in page  # the details form, filled in


def test_an_edit_is_saved_and_logged_with_before_and_after(client, agent, handled):
    login(client, agent.email)
    version = handled.version
    answer = client.post(
        f"/customers/{handled.id}", data=_details(handled, name="Li Lei (Mr)", phone="138-0013-9999", value_tier="gold")
    )
    assert answer.status_code == 302
    db.session.refresh(handled)
    assert (handled.name, handled.phone_digits, handled.value_tier) == ("Li Lei (Mr)", "13800139999", "gold")
    assert handled.version == version + 1 and handled.updated_by_id == agent.id
    [event] = db.session.scalars(select(CustomerEvent).where(CustomerEvent.customer_id == handled.id)).all()
    assert (event.action, event.actor_id) == ("update", agent.id)
    assert event.before == {"name": "Li Lei", "phone": "+86 138 0013 8000", "value_tier": "standard"}
    assert event.after == {"name": "Li Lei (Mr)", "phone": "138-0013-9999", "value_tier": "gold"}
    page = client.get(f"/customers/{handled.id}").get_data(as_text=True)
    assert "Details changed" in page and "Ann Agent" in page
    assert '<span class="field-name">Value tier</span>: Standard → <ins>Gold</ins>' in page


def test_a_stale_edit_is_refused_naming_who_changed_it_and_nothing_is_saved(client, agent, supervisor, handled):
    seen = _details(handled)
    customers.update_customer(handled, supervisor, version=handled.version, **_fields(handled, email="li@example.com"))
    db.session.commit()
    login(client, agent.email)
    answer = client.post(f"/customers/{handled.id}", data={**seen, "name": "Lei Li"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "The record of Li Lei was changed by Sam Supervisor" in page and "Nothing was saved" in page
    assert 'value="Lei Li"' in page  # what the agent typed is kept in the form
    db.session.refresh(handled)
    assert handled.name == "Li Lei" and handled.email == "li@example.com"
    assert db.session.scalar(select(func.count(CustomerEvent.id))) == 1


def test_an_edit_that_changes_nothing_is_refused_politely_and_logs_nothing(client, agent, handled):
    login(client, agent.email)
    answer = client.post(
        f"/customers/{handled.id}", data=_details(handled, name="  Li Lei ", email="LI.LEI@example.com")
    )
    assert answer.status_code == 422
    assert "Nothing to save: these are the details already on the record." in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CustomerEvent.id))) == 0


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "Li\r\nLei", "This field must fit on one line."),
        ("name", "Li\x1bLei", "This field contains characters that cannot be saved."),
        ("name", "", "This field is required."),
        ("email", "not-an-address", "Invalid email address."),
        ("phone", "call me maybe", "Give a phone number: digits, with spaces, + or - if you like."),
        ("value_tier", "platinum", "Not a valid choice."),
    ],
)
def test_bad_input_is_shown_again_with_a_clear_message_and_nothing_is_saved(
    client, agent, handled, field, value, message
):
    login(client, agent.email)
    answer = client.post(f"/customers/{handled.id}", data=_details(handled, **{field: value}))
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    db.session.refresh(handled)
    assert handled.name == "Li Lei" and db.session.scalar(select(func.count(CustomerEvent.id))) == 0


def test_an_email_another_record_holds_is_refused_next_to_the_field(client, agent, handled):
    other = _other()
    login(client, agent.email)
    answer = client.post(f"/customers/{handled.id}", data=_details(handled, email="LiLei.Old@example.com"))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert f"Li L. (#{other.id}) already has this e-mail; if it is the same person, merge the two records." in page
    assert 'id="email-error"' in page


def _searched_text(ticket) -> str:
    """What the search index holds for the case (its customer's contacts among it)."""
    return db.session.get(documents.CaseDocument, ticket.id).public_text


def _merge(client, survivor, duplicate, reason="Same person: moved house and changed number"):
    return client.post(
        f"/customers/{survivor.id}/merge/{duplicate.id}",
        data={"survivor_version": survivor.version, "duplicate_version": duplicate.version, "reason": reason},
    )


def test_merging_moves_every_case_logs_it_on_each_case_and_the_duplicate_redirects(client, agent, handled):
    duplicate = _other(email=None)
    duplicate.external_id = "CRM-77"
    db.session.commit()
    moved = [open_case(agent, name="Li L.", email=None), open_case(agent, name="Li L.", email=None)]
    assert {t.customer_id for t in moved} == {handled.id}  # same phone: intake found the same record
    for ticket in moved:  # the duplicate's own cases, as left by an earlier intake
        db.session.execute(Ticket.__table__.update().where(Ticket.id == ticket.id).values(customer_id=duplicate.id))
    db.session.commit()
    versions = {t.reference: db.session.get(Ticket, t.id).version for t in moved}
    login(client, agent.email)

    assert _merge(client, handled, duplicate).status_code == 302

    db.session.expire_all()
    assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.customer_id == duplicate.id)) == 0
    for reference, version in versions.items():
        ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        assert (ticket.customer_id, ticket.version) == (handled.id, version)  # moved, never made stale
        [event] = db.session.scalars(
            select(Event).where(Event.ticket_id == ticket.id, Event.action == "customer_merged")
        ).all()
        assert event.changes["customer"] == [duplicate.id, handled.id] and event.actor_id == agent.id
    assert (duplicate.merged_into_id, handled.external_id, duplicate.external_id) == (handled.id, "CRM-77", None)
    assert handled.email == "li.lei@example.com"  # the survivor keeps its own details
    actions = dict(db.session.execute(select(CustomerEvent.customer_id, CustomerEvent.action)).all())
    assert actions == {handled.id: "merged_in", duplicate.id: "merged_into"}

    answer = client.get(f"/customers/{duplicate.id}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/customers/{handled.id}")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"Record #{duplicate.id} (Li L.) was merged into this one." in page
    assert "A duplicate record was merged into this one" in page and "CRM-77" in page
    case_page = client.get(f"/tickets/{moved[0].reference}").get_data(as_text=True)
    assert "Customer records merged: the case moved to the surviving record" in case_page
    # The record log names both records, not bare ids.
    assert f"Li L. (#{duplicate.id})" in case_page and f"{handled.name} (#{handled.id})" in case_page


def test_the_moved_cases_are_found_by_the_survivors_contacts(client, agent, handled):
    duplicate = _other()  # nothing of it fills the survivor, so no change of the survivor's rewrites its cases
    ticket = services.take_complaint(agent, customer=duplicate, subject="Late", description="Late", channel="phone")
    db.session.commit()
    assert "li.lei@example.com" not in _searched_text(ticket)
    login(client, agent.email)
    assert _merge(client, handled, duplicate).status_code == 302
    db.session.expire_all()
    assert "li.lei@example.com" in _searched_text(ticket)


def test_a_merge_is_refused_into_itself_from_a_merged_record_or_without_a_reason(client, agent, handled):
    duplicate, third = _other(), _other("Lei Li", "lei.li@example.com", "+86 137 0000 2222")
    login(client, agent.email)
    itself = _merge(client, handled, handled)
    assert itself.status_code == 409 and "A customer record cannot be merged into itself." in itself.get_data(
        as_text=True
    )
    no_reason = _merge(client, handled, duplicate, reason="  ")
    assert no_reason.status_code == 422 and "This field is required." in no_reason.get_data(as_text=True)
    assert _merge(client, handled, duplicate).status_code == 302
    db.session.expire_all()
    again = _merge(client, third, duplicate)
    assert again.status_code == 409 and "Li L.'s record is already merged into another record." in again.get_data(
        as_text=True
    )
    into_merged = _merge(client, duplicate, third)
    assert into_merged.status_code == 409 and "was itself merged into another record" in into_merged.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert third.merged_into_id is None and db.session.scalar(select(func.count(CustomerEvent.id))) == 2


def test_a_stale_merge_is_refused_and_changes_nothing(client, agent, supervisor, handled):
    duplicate = _other()
    seen = {"survivor_version": handled.version, "duplicate_version": duplicate.version, "reason": "Same person"}
    customers.update_customer(duplicate, supervisor, version=duplicate.version, **_fields(duplicate, name="Li Lee"))
    db.session.commit()
    login(client, agent.email)
    answer = client.post(f"/customers/{handled.id}/merge/{duplicate.id}", data=seen)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "The record of Li Lee was changed by Sam Supervisor" in page
    assert "Li Lee" in page  # both records shown as they are now
    db.session.expire_all()
    assert duplicate.merged_into_id is None


def test_the_other_record_is_found_by_number_email_phone_or_case_and_compared_side_by_side(client, agent, handled):
    duplicate = _other(email="li.l@example.com")
    their_case = open_case(agent, name="Li L.", email="li.l@example.com")
    login(client, agent.email)
    for query in (f"#{duplicate.id}", str(duplicate.id), "LI.L@example.com", "139-0000-1111", their_case.reference):
        page = client.get(f"/customers/{handled.id}/merge", query_string={"q": query}).get_data(as_text=True)
        assert f'href="/customers/{handled.id}/merge/{duplicate.id}"' in page, query
    assert "No other record matches" in client.get(
        f"/customers/{handled.id}/merge", query_string={"q": "nobody@example.com"}
    ).get_data(as_text=True)
    page = client.get(f"/customers/{handled.id}/merge/{duplicate.id}").get_data(as_text=True)
    assert f"Stays: #{handled.id}" in page and f"Merged into it: #{duplicate.id}" in page
    assert "li.lei@example.com" in page and "li.l@example.com" in page and "+86 139 0000 1111" in page
    assert f'name="duplicate_version" type="hidden" value="{duplicate.version}"' in page


def test_the_intake_lookup_pops_the_record_their_open_cases_and_last_outcome(client, agent, handled):
    login(client, agent.email)
    [found] = client.get("/customers/lookup?q=138-0013-8000").get_json()
    assert found["url"] == f"/customers/{handled.id}" and found["cases"] == 2
    reviewed, newest = sorted(found["open_cases"], key=lambda case: case["reference"])
    assert newest["subject"] == "Leaking kettle" and newest["url"] == f"/tickets/{newest['reference']}"
    assert (reviewed["step"], newest["step"]) == ("Record and review", "Empathise and apologise")
    assert found["last_outcome"].startswith(
        f"Problem solved, customer satisfied (satisfaction 5/5, Retained) — {reviewed['reference']}"
    )


def test_after_a_merge_the_lookup_and_the_intake_land_on_the_surviving_record(client, agent, handled):
    duplicate = _other()
    login(client, agent.email)
    assert _merge(client, handled, duplicate).status_code == 302
    [found] = client.get("/customers/lookup?q=lilei.old@example.com").get_json()
    assert found["id"] == handled.id
    ticket = open_case(agent, name="Li L.", email="lilei.old@example.com")
    assert ticket.customer_id == handled.id


def test_the_case_page_and_the_at_risk_list_link_to_the_record(app, client, agent, supervisor, handled):
    login(client, agent.email)
    ticket = db.session.scalars(select(Ticket).where(Ticket.customer_id == handled.id)).first()
    assert f'href="/customers/{handled.id}"' in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert f'href="/customers/{handled.id}"' in client.get("/insight/win-back").get_data(as_text=True)
    boss = app.test_client()
    login(boss, supervisor.email)
    assert f'href="/customers/{handled.id}"' in boss.get("/insight/at-risk").get_data(as_text=True)


def test_the_record_reads_in_chinese_with_chinese_dates(client, make_user, handled):
    wang = make_user("agent", "wang@example.com", "王芳", locale="zh_CN")
    login(client, wang.email)
    page = client.get(f"/customers/{handled.id}").get_data(as_text=True)
    for text in (
        "其案件",
        "迄今给予的补偿",
        "回访与留存",
        "评分与调查答复",
        "流失风险",
        "挽回行动",
        "联系资料",
        "本记录的变更",
    ):
        assert text in page, text
    assert f"{utcnow().year}年" in page and "Their cases" not in page
    merge = client.get(f"/customers/{handled.id}/merge").get_data(as_text=True)
    assert "合并重复记录" in merge


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)


def test_merges_at_the_same_moment_never_fail_and_leave_every_case_on_a_live_record(server):
    """Six merges over three records of one person, sent at once: the first to lock wins, the others are
    told why (409: stale, or already merged), no answer is a 5xx, and no record ends merged into a merged
    one."""
    app, base = server
    with app.app_context():
        staff = create_user(email="merger@example.com", password=PASSWORD, role="agent", name="Mia Merger")
        db.session.commit()
        people = [
            services.find_or_create_customer(f"Wu {n}", f"wu{n}@example.com", f"139 0000 000{n}") for n in range(3)
        ]
        for person in people:  # one person, three records, a case on each
            services.take_complaint(staff, customer=person, subject="Late", description="Late again", channel="phone")
        db.session.commit()
        ids = [person.id for person in people]
    a, b, c = ids
    pairs = [(a, b), (b, a), (a, b), (c, b), (b, c), (a, c)]
    calls = []
    for survivor, duplicate in pairs:
        desk = Browser(base)
        desk.log_in("merger@example.com")
        path = f"/customers/{survivor}/merge/{duplicate}"
        page = desk.request(path).body
        data = {name: _hidden(page, name) for name in ("csrf_token", "survivor_version", "duplicate_version")}
        calls.append(lambda desk=desk, path=path, data=data: desk.request(path, {**data, "reason": "Same person"}))

    answers = _all_at_once(calls)
    counts = _figures("customer merges", answers)

    assert set(counts) <= {302, 409} and counts[302] >= 1
    told = ("— reload it. Nothing was saved.", "is already merged into another record", "was itself merged into")
    assert all(any(why in a.body for why in told) for a in answers if a.status == 409), [a.body for a in answers]
    with app.app_context():
        merged = dict(
            db.session.execute(select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(ids))).all()
        )
        live = {customer_id for customer_id, into in merged.items() if into is None}
        assert live and all(into in live for into in merged.values() if into is not None)
        owners = db.session.scalars(select(Ticket.customer_id).where(Ticket.customer_id.in_(ids))).all()
        assert len(owners) == 3 and set(owners) <= live
        assert db.session.scalar(select(func.count(CustomerEvent.id))) == 2 * counts[302]
        assert chain.verify(Event)[1] is None
