"""Headless report formats for findings: text, JSON and SARIF 2.1.0."""
