"""The project's common library: config, database, events, outbox, relay, consumer, HTTP helpers.

Every service uses these pieces rather than writing its own; nothing here connects at import.
"""
