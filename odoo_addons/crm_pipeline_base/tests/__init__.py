from . import test_base
