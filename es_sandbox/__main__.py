"""`python -m es_sandbox start|stop|status|tour` (what scripts/es-sandbox runs)."""

import sys

from es_sandbox.cli import main

sys.exit(main())
