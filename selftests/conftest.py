"""Self-test setup: make ``support`` importable. The compliance plugin is never loaded here."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
