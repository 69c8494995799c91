"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""

from ticketing import create_app

app = create_app()
