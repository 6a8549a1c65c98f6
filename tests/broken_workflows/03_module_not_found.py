# expect: ModuleNotFoundError at import: No module named 'no_such_module_xyz'
import no_such_module_xyz  # ERROR
