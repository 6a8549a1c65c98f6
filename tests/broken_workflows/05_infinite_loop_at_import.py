# expect: did not finish within
from engine import workflow

while True: pass  # ERROR
