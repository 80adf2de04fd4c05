from odoo import http
from odoo.http import request


class DocumentLinkController(http.Controller):
    @http.route(
        "/crm/doc/<string:token>", type="http", auth="public", methods=["GET"], csrf=False, readonly=False
    )
    def crm_document_link(self, token):
        """Serve the document of a tracked link and log the opening. Unknown, archived and expired links get
        the same 404, so the answer tells nothing about which tokens exist."""
        # sudo: the visitor is anonymous, the unguessable token (matched exactly) is their only credential
        link = request.env["crm.document.link"].sudo()._find_valid(token)
        if not link:
            raise request.not_found()
        link._register_open()
        response = request.env["ir.binary"]._get_stream_from(link.attachment_id).get_response()
        # every opening reaches the server (and is counted); the token does not leak through the document's
        # own links; search engines leave personal links alone
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response
