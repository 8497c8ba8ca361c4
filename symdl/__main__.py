"""`python -m symdl` is the `symdl` command."""

import sys

from symdl.cli.main import main

sys.exit(main())
