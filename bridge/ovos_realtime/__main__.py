import sys

from ovos_realtime.cli import main

sys.exit(main())
