"""``python -m console.cli``: the ``flowconsole`` script."""

import sys

from console.cli import main

sys.exit(main())
