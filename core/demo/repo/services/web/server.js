const express = require("express");

const app = express();
const apiUrl = process.env.API_URL || "http://localhost:8000";

app.get("/", (_req, res) => res.send(`<h1>Shop</h1><p>API at ${apiUrl}</p>`));
app.get("/healthz", (_req, res) => res.json({ ok: true }));

app.listen(3000, () => console.log("web listening on :3000"));
