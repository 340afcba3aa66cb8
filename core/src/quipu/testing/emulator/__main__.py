"""``python -m quipu.testing.emulator``."""

import sys

from quipu.testing.emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
