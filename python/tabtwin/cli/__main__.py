import sys

from tabtwin.cli import main

sys.exit(main())
