"""``python -m bench``: see `bench.run` (``--quick`` for a ~5-minute 10k-only run)."""

import sys

from bench.run import main

sys.exit(main(sys.argv[1:]))
