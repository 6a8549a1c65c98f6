# expect: ImportError at import: cannot import name 'NoSuchThing'
from engine import NoSuchThing, workflow  # ERROR
