# expect: sys.exit(3) called at import
import sys

sys.exit(3)  # ERROR
