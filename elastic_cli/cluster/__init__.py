"""Talking to Elasticsearch: the client built from the settings, the transport and serializer it
uses, and client errors translated into the tool's errors (one line, an exit code)."""
