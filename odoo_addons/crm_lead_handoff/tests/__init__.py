from . import (
    test_handoff_flow,
    test_multicompany,
    test_performance,
    test_phase_by_stage,
    test_phase_recording,
    test_routes,
    test_rpc,
    test_sla,
    test_readonly_reports,
    test_waterfall_report,
    test_waterfall_same_numbers,
)
