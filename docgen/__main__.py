"""``python -m docgen`` runs the command line (and, without arguments, the desktop app)."""

import sys

from docgen.cli import main

sys.exit(main())
