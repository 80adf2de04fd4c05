from . import test_stage_gates
from . import test_decision_phase
from . import test_document_link
from . import test_qualify_tour
from . import test_stage_lock_paths
from . import test_new_leads
from . import test_bulk_insert_events
from . import test_stage_bar_tour
