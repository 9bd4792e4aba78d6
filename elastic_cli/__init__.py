"""orx-elastic: set up and use OpenReplay's Elasticsearch integration."""

__version__ = "0.1.0"
