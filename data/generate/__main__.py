"""``python data/generate``: run the generator's command line (see the package docstring)."""

import sys
from pathlib import Path

if __package__:  # python -m data.generate, from the repository root
    from . import main
else:  # python data/generate: the directory is on the path in place of its parent
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from generate import main

sys.exit(main())
