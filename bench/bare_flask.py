"""A bare Flask app answering a JSON POST, served by the same gunicorn settings as the desk
(`gunicorn -c gunicorn.conf.py --pythonpath bench bare_flask:app`): the ceiling bench/desk.py compares
API create against ("share of a bare Flask app")."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    body = request.get_json()
    return jsonify({"received": len(body or {})}), 201
