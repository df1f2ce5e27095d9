"""Outgoing mail: messages are queued while a request works and sent after its commit."""

from pulse.notify.mail import Message, SendReport, deliver, discard_queued, queue, send_queued

__all__ = ["Message", "SendReport", "deliver", "discard_queued", "queue", "send_queued"]
