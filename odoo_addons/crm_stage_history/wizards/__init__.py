from . import crm_stage_calibration
