"""The Operations dashboard: messages by channel and status per hour and day from the hourly
counters (messaging/counters.py), failure rate, DLQ depth, WhatsApp tier use, and the sections
apps above messaging register (bulk throughput, AI suggestions). docs/design/operations.md ("Dashboard").
"""
