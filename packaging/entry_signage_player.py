"""PyInstaller's entry for ``signage-player``: the console script, as a plain script."""

import sys

from signage_player.main import main

if __name__ == "__main__":
    sys.exit(main())
