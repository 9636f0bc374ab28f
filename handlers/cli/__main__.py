"""``python -m handlers.cli``: the same ``leadpipe`` command, for a checkout without the script."""

import sys

from handlers.cli import main

# Guarded: uvicorn's ``--workers N`` spawns processes that re-import this module as
# ``__mp_main__``; unguarded, each would run the command again instead of serving.
if __name__ == "__main__":
    sys.exit(main())
