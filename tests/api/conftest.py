"""API fixtures: a token per role and a client that sends it."""

import pytest

from ticketing.auth.tokens import issue_token
from ticketing.extensions import db


class ApiClient:
    """The test client with a bearer token and JSON bodies."""

    def __init__(self, client, secret):
        self.client, self.secret = client, secret

    def _headers(self, headers=None):
        return {"Authorization": f"Bearer {self.secret}", **(headers or {})}

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, url, json=None, **kwargs):
        return self.client.post(url, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, url, json=None, **kwargs):
        return self.client.patch(url, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


@pytest.fixture
def make_api(app, client):
    def make(user, read_only=False):
        _row, secret = issue_token(user, "tests", read_only=read_only)
        db.session.commit()
        return ApiClient(client, secret)

    return make


@pytest.fixture
def api(make_api, agent):
    return make_api(agent)
