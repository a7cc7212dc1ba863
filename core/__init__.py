"""devops-tui's engine: discovery, parsing, scanners, proposals.

Plain Python: never imports Textual or Rich.
"""

__version__ = "0.1.0"
