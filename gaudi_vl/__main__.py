"""``python -m gaudi_vl`` runs the CLI."""

import sys

from gaudi_vl.cli import main

sys.exit(main())
