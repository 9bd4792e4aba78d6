"""`orx-elastic mcp`: the Model Context Protocol server over stdio. Its tools are thin calls into
the core the commands use (`tools`), its answers bounded and shaped by one set of pure rules
(`answers`); only `server` imports the SDK (the optional extra `mcp`)."""
