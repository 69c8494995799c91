"""Rework without retyping: a rejected proposal, a returned review and the supervisor's preventive
action start from what was written before, and say why the work comes back."""

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

from sqlalchemy import select

from tests.conftest import login
from tests.factories import open_case, to_step
from ticketing.cases import rework, services
from ticketing.cases.models import Reminder
from ticketing.cases.records import Resolution
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.notify import messages


class _Fields(HTMLParser):
    """The fields of one form of a page, as the browser would send them untouched."""

    def __init__(self, action_suffix: str):
        super().__init__()
        self.suffix, self.inside, self.fields, self.textarea, self.select = action_suffix, False, {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = (attrs.get("action") or "").endswith(self.suffix)
        elif not self.inside:
            return
        elif tag == "input" and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.fields[self.textarea] = ""
        elif tag == "select" and attrs.get("name"):
            self.select = attrs["name"]
            self.fields.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data):
        if self.textarea:
            # like a browser, drop the one line break that follows <textarea>
            first = not self.fields[self.textarea]
            self.fields[self.textarea] += data.removeprefix("\r\n").removeprefix("\n") if first else data


def form_fields(page: str, action: str) -> dict:
    parser = _Fields(f"/actions/{action}")
    parser.feed(page)
    return parser.fields


def _rejected_case(agent):
    ticket = to_step(open_case(agent), agent, "analyse")
    to_step(ticket, agent, "resolve")
    services.propose_resolution(
        ticket,
        agent,
        version=ticket.version,
        method="Replace the kettle at home",
        promised_date=(utcnow() + timedelta(days=5)).date(),
        currency="CNY",
        estimated_loss=120,
        lines=[{"type": "voucher", "description": "Next purchase", "amount": 60}, {"type": "apology_letter"}],
    )
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=False, reason="A voucher is no use")
    db.session.commit()
    return ticket


def test_a_new_proposal_starts_from_the_rejected_one_and_says_why_it_was_rejected(client, agent):
    ticket = _rejected_case(agent)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "The customer rejected the last proposal" in page and "A voucher is no use" in page
    assert page.index("A voucher is no use") < page.index('action="/tickets/' + ticket.reference + '/actions/propose"')
    assert 'class="panel resolution"' not in page  # the turned-down proposal is in the form, not shown twice
    fields = form_fields(page, "propose")
    assert fields["propose-method"] == "Replace the kettle at home"
    assert fields["propose-promised_date"] == (utcnow() + timedelta(days=5)).date().isoformat()
    assert Decimal(fields["propose-estimated_loss"]) == 120 and fields["propose-currency"] == "CNY"
    assert (fields["propose-lines-0-compensation"], fields["propose-lines-0-details"]) == ("voucher", "Next purchase")
    assert Decimal(fields["propose-lines-0-amount"]) == 60
    assert fields["propose-lines-1-compensation"] == "apology_letter"


def test_the_prefilled_proposal_is_proposed_again_without_a_field_retyped(client, agent):
    ticket = _rejected_case(agent)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    response = client.post(f"/tickets/{ticket.reference}/actions/propose", data=form_fields(page, "propose"))
    assert response.status_code == 302
    first, second = db.session.scalars(select(Resolution).order_by(Resolution.id)).all()
    assert second.method == first.method and second.promised_date == first.promised_date
    assert second.estimated_loss == first.estimated_loss
    assert [(x.type, x.description, x.amount) for x in second.lines] == [
        (x.type, x.description, x.amount) for x in first.lines
    ]


def test_a_refused_compensation_names_the_supervisor_and_the_reason(client, agent, supervisor):
    ticket = to_step(open_case(agent), agent, "resolve")
    services.propose_resolution(
        ticket,
        agent,
        version=ticket.version,
        method="Refund in full",
        promised_date=(utcnow() + timedelta(days=5)).date(),
        currency="CNY",
        estimated_loss=900,
        lines=[{"type": "refund", "amount": 900}],
    )
    services.refuse_compensation(ticket, supervisor, version=ticket.version, reason="Half is enough here")
    db.session.commit()
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert f"{supervisor.name} refused the compensation" in page and "Half is enough here" in page
    assert form_fields(page, "propose")["propose-method"] == "Refund in full"


def test_a_passed_promised_date_is_not_offered_again(app, agent, frozen_clock):
    ticket = _rejected_case(agent)
    frozen_clock.move(days=9)
    with app.test_request_context():
        defaults = rework.proposal_defaults(ticket)
    assert defaults["promised_date"] is None and defaults["method"] == "Replace the kettle at home"


def _returned_case(agent, supervisor, preventive=""):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(
        ticket,
        agent,
        version=ticket.version,
        summary="Kettle replaced in three days",
        lesson="Check the seals",
        preventive_action=preventive,
    )
    services.return_review(
        ticket, supervisor, version=ticket.version, return_to="follow_up", reason="Call the customer again"
    )
    db.session.commit()
    return ticket


def test_a_returned_review_shows_who_returned_it_and_why_and_keeps_the_summary(client, agent, supervisor):
    ticket = _returned_case(agent, supervisor)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert f"Returned by {supervisor.name}" in page and "Call the customer again" in page
    to_step(ticket, agent, "review")
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert f"Returned by {supervisor.name}" in page  # until the summary is recorded again
    fields = form_fields(page, "record_review")
    assert fields["record_review-summary"] == "Kettle replaced in three days"
    assert fields["record_review-lesson"] == "Check the seals"
    assert client.post(f"/tickets/{ticket.reference}/actions/record_review", data=fields).status_code == 302
    assert "Returned by" not in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)


def test_the_returned_notice_carries_the_reason(app, agent, supervisor):
    ticket = _returned_case(agent, supervisor)
    notice = db.session.scalars(
        select(Reminder).where(Reminder.ticket_id == ticket.id, Reminder.kind == "review_returned")
    ).one()
    assert notice.user_id == agent.id
    with app.test_request_context():
        text = messages.body(notice.kind, notice.details)
    assert "Call the customer again" in text and f"Returned by {supervisor.name} to “Follow up”" in text


def test_the_supervisors_preventive_action_starts_from_the_agents(client, agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(
        ticket, agent, version=ticket.version, summary="Done", lesson="Seals", preventive_action="Test every seal"
    )
    db.session.commit()
    login(client, supervisor.email)
    page = client.get(f"/review/cases/{ticket.reference}").get_data(as_text=True)
    start = page.index('name="description"')
    assert "Test every seal" in page[start : page.index("</textarea>", start)]
    owner = page[page.index('name="owner"') :]
    assert f'selected value="{agent.id}"' in owner[: owner.index("</select>")] or (
        f'value="{agent.id}" selected' in owner[: owner.index("</select>")]
    )
