"""``python -m handlers.cli``: the same ``leadpipe`` command, for a checkout without the script."""

import sys

from handlers.cli import main

sys.exit(main())
