"""Bedrock as the AI app sees it: three calls with typed answers, whatever the wire looks like.
docs/design/agent.md, "Bedrock".
"""
