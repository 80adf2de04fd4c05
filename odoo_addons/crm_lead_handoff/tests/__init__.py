from . import (
    test_handoff_flow,
    test_multicompany,
    test_performance,
    test_phase_recording,
    test_routes,
    test_rpc,
    test_sla,
)
