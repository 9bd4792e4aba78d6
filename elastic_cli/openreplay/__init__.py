"""What OpenReplay means: session tokens and ids, their markers in log lines, replay links, and
the values of its dashboard's form."""
