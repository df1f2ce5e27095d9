"""Outgoing mail: messages are queued while a request works and sent after its commit."""

from flask import Flask

from pulse.notify.mail import Message, SendReport, deliver, discard_queued, queue, send_queued

__all__ = ["Message", "SendReport", "deliver", "discard_queued", "queue", "send_queued"]


def init_app(app: Flask) -> None:
    from pulse.notify.routes import bp

    app.register_blueprint(bp)
