"""API keys: role descriptors and request bodies (pure), admin credentials, create / list /
invalidate / rotate."""
