"""Inbound WhatsApp: SNS notifications from AWS End User Messaging Social, parsed and recorded once."""
