"""Reading a session's lines: fields per index, the query (pure), the pager (point in time,
search_after), the plan and merge of streams, follow, the sessions report, and the coverage of a
result. `session_logs.session_logs` is the call `logs` makes."""
