"""``python -m flowconsole ARGS`` does what ``flowconsole ARGS`` does."""

import sys

from console.cli import main

sys.exit(main())
