"""``python -m herotui.server [--daemon|--foreground]``: run the resident server (see core)."""

import sys

from herotui.server.core import main

if __name__ == "__main__":
    sys.exit(main(foreground="--daemon" not in sys.argv[1:]))
