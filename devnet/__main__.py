"""``python -m devnet``: run the single-node Fabric peer and orderer."""

import sys

from devnet.cli import main

if __name__ == "__main__":
    sys.exit(main())
