"""The scheduler's admin page shows each failed message with its address and error, and sends it again."""

from sqlalchemy import select

from tests.conftest import login
from tests.factories import open_case
from ticketing.extensions import db
from ticketing.scheduling.dispatcher import dispatch_due
from ticketing.scheduling.models import Delivery


def test_a_refused_message_is_listed_and_sent_again_on_request(app, client, agent, supervisor, inbox, frozen_clock):
    open_case(agent, email="li.lei@example.com")
    working_port, app.config["SMTP_PORT"] = app.config["SMTP_PORT"], 1  # nothing listens there: every message fails
    app.config["DISPATCH_MAX_ATTEMPTS"] = 1
    dispatch_due(frozen_clock.now)
    [failed] = db.session.scalars(select(Delivery).where(Delivery.status == "failed"))
    login(client, supervisor.email)
    page = client.get("/admin/scheduler/").get_data(as_text=True)
    assert "li.lei@example.com" in page and "ConnectionRefusedError" in page
    app.config["SMTP_PORT"] = working_port
    assert client.post(f"/admin/scheduler/deliveries/{failed.id}/retry").status_code == 302
    dispatch_due(frozen_clock.now)
    db.session.refresh(failed)
    assert failed.status == "sent" and len(inbox.to("li.lei@example.com")) == 1
    assert client.post(f"/admin/scheduler/deliveries/{failed.id}/retry").status_code == 404  # sent: nothing to retry
