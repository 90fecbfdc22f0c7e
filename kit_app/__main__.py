import sys

from kit_app.cli import main

sys.exit(main())
