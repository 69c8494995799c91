from tests.factories import open_case, to_step
from ticketing.cases.audit import Event
from ticketing.extensions import db


def test_a_case_walks_all_six_steps_and_closes(agent, supervisor):
    from ticketing.cases import services

    ticket = open_case(agent)
    assert ticket.reference.startswith("C-")
    to_step(ticket, agent, "review", approver=supervisor)
    services.record_review(ticket, agent, version=ticket.version, summary="Kettle replaced", lesson="Check seals")
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    assert ticket.status == "closed"
    actions = [e.action for e in db.session.scalars(db.select(Event).order_by(Event.id))]
    assert actions[:3] == ["create", "listen", "apologise"]
    assert actions[-1] == "approve_review"
