# expect: RuntimeError at import: boom at import
from engine import workflow

raise RuntimeError("boom at import")  # ERROR
