"""devops-tui's terminal front end: the Textual app and the `devops-tui` command line."""
