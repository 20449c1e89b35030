import sys

from advmim.cli import main

sys.exit(main())
