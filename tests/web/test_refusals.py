"""The error handlers registered once (setup.configure_errors): the session rolled back first, a
refusal answered with its reason and status, a page for people and problem+json for the API."""

import pytest
from flask import render_template_string

from tests.conftest import login
from ticketing import refusals
from ticketing.auth.models import User
from ticketing.extensions import db


@pytest.fixture
def routes(app):
    """Routes that fail the ways a view can, added before the app's first request."""

    def refuse():
        raise refusals.Refusal("You may not do that now.")

    def refuse_and_reshow():
        refusals.reshow(lambda error: render_template_string("<p>the form, kept</p>"))
        raise refusals.Refusal("Bad input.", status=refusals.UNPROCESSABLE)

    def break_the_transaction():
        db.session.add(User(email="agent@example.com", name="Twin", role="agent", password_hash="x"))
        db.session.flush()  # the email is taken: the flush fails and the session needs a rollback

    for rule, view in (
        ("/test/refuse", refuse),
        ("/test/reshow", refuse_and_reshow),
        ("/test/broken", break_the_transaction),
        ("/api/v1/test/refuse", refuse),
    ):
        app.add_url_rule(rule, rule, view, methods=["GET", "POST"])
    return app


def test_a_refusal_nobody_planned_for_gets_a_page_with_the_reason_and_a_way_back(routes, client, agent):
    login(client, agent.email)
    response = client.post("/test/refuse", headers={"Referer": "http://localhost/queue?view=team"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "You may not do that now." in page
    assert 'href="/queue?view=team"' in page
    other_site = client.post("/test/refuse", headers={"Referer": "https://elsewhere.example/x"})
    assert 'href="/"' in other_site.get_data(as_text=True)


def test_a_view_that_said_how_shows_its_page_again_with_the_status(routes, client, agent):
    login(client, agent.email)
    response = client.post("/test/reshow")
    assert response.status_code == 422 and "the form, kept" in response.get_data(as_text=True)


def test_the_api_answers_a_refusal_with_a_problem_document(routes, client):
    response = client.post("/api/v1/test/refuse")
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "You may not do that now."


def test_the_server_error_page_rolls_back_before_it_renders(routes, client, agent):
    routes.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers
    login(client, agent.email)
    response = client.get("/test/broken")
    # The page reads the database (the signed-in user, the notifications): it can only render after a rollback.
    assert response.status_code == 500 and "Something went wrong on our side" in response.get_data(as_text=True)
