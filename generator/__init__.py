"""Clickstream event generator: simulated shop sessions or a REES46 replay, sent to Kafka.

The contract of the events is docs/events.md.
"""
