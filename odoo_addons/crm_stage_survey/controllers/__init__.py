from . import document_link
from . import survey
