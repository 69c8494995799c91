"""WSGI entry point: gunicorn -c gunicorn.conf.py wsgi:app, flask --app wsgi ...

With production settings (APP_ENV unset or not "development") creating the app fails without SECRET_KEY
or the audit keys, or with demo accounts active: gunicorn's workers then fail to boot with the reason."""

from ticketing import create_app

app = create_app()
