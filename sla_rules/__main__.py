"""``python -m sla_rules``: the ``sla_rules`` command (see :mod:`sla_rules.cli`)."""

import sys

from sla_rules.cli import main

sys.exit(main())
