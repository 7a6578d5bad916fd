"""Sending replies through Microsoft Graph, at most once.

``send`` posts the reply's exact MIME to ``/me/sendMail`` (base64, ``Content-Type: text/plain``,
as Graph documents for MIME messages); ``202 Accepted`` means Exchange took it, and Exchange files
the copy in Sent Items itself. Before that the mailbox's send limit (30 per minute) is kept. A
timeout or a dropped connection after the request went out is an unknown outcome; the engine then
reconciles with ``find_sent``, which looks for the reply's Message-ID in Sent Items
(``internetMessageId eq '...'``) before anything is sent again.
"""

from __future__ import annotations

import base64

from connectors.errors import ConnectorPermanentError
from connectors.graph.client import GraphClient
from connectors.graph.source import odata_quote
from engine.mail.headerblock import normalise_message_id, peek_message_id
from engine.ports import EffectReceipt, OutgoingReply

SENT_ITEMS = "sentitems"


class GraphSender:
    """The engine's :class:`~engine.ports.MailSender` for a Microsoft 365 mailbox."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    @property
    def destination(self) -> str:
        """Graph's host name."""
        return self.client.host

    def send(self, reply: OutgoingReply) -> EffectReceipt:
        """Send the MIME once (within the per-minute limit)."""
        expected = normalise_message_id(reply.message_id)
        if expected is None or peek_message_id(reply.mime) != expected:
            raise ConnectorPermanentError(
                f"the reply's MIME does not carry its Message-ID {reply.message_id!r}; refusing to send it"
            )
        self.client.limits.take_send_slot()
        response = self.client.request(
            "POST",
            "/me/sendMail",
            content=base64.b64encode(reply.mime),
            headers={"Content-Type": "text/plain"},
            applies_effect=True,
        )
        return EffectReceipt(
            external_id=reply.message_id,
            destination=self.destination,
            detail={"status": response.status_code, "sent_copy": "server"},
        )

    def find_sent(self, reply: OutgoingReply) -> EffectReceipt | None:
        """Look for the reply's Message-ID in Sent Items."""
        found = self.client.get_json(
            f"/me/mailFolders/{SENT_ITEMS}/messages",
            params={
                "$filter": f"internetMessageId eq {odata_quote(reply.message_id)}",
                "$select": "id,internetMessageId",
            },
        )
        items = [i for i in found.get("value", []) if isinstance(i, dict)]
        if not items:
            return None
        return EffectReceipt(
            external_id=reply.message_id,
            destination=self.destination,
            detail={"reconciled": "sent_items", "id": str(items[0].get("id", ""))},
        )
