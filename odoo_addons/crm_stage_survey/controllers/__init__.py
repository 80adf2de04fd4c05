from . import document_link
