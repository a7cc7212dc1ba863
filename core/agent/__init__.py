"""The DevOps agent: an Anthropic-backed chat that reads the repo through tools and proposes edits."""
