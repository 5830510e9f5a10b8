"""``python -m content_server``: the same as the ``content-server`` command."""

import sys

from .cli import main

sys.exit(main())
