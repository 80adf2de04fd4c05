from odoo import Command


def queue_digest_mail(env, user, company, subject, body):
    """Queue an automated digest (the weekly review, the early warnings) for one user: a ``mail.mail``
    to his partner, from his company's address (the bot's without one), deleted once sent, asking
    mail servers not to answer it with out-of-office replies. :returns: the ``mail.mail``."""
    # sudo: outgoing mails are reserved to administrators; a digest goes to the user it was read for
    return (
        env["mail.mail"]
        .sudo()
        .create(
            {
                "subject": subject,
                "body_html": body,
                "recipient_ids": [Command.link(user.partner_id.id)],
                "email_from": company.email_formatted or env.ref("base.partner_root").email_formatted,
                "auto_delete": True,
                "headers": str({"X-Auto-Response-Suppress": "OOF"}),
            }
        )
    )
