"""See docs/design/agent.md."""
