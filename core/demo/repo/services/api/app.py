"""Demo API: a health endpoint and a product list."""

import os

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.get("/products")
def products():
    return jsonify([{"id": 1, "name": "teapot"}, {"id": 2, "name": "kettle"}])


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
