"""gunicorn settings read automatically from the working directory: `gunicorn wsgi:app`.

Only what Pulse needs is set here; command-line options (--workers, --bind, ...) still apply.
The logger class redacts link tokens from gunicorn's access and error logs, as
pulse.core.logging does for the development server.
"""

from __future__ import annotations

import os
from typing import Any

# Numpy's BLAS would otherwise start a thread per core in every worker; with several workers
# per machine they fight over the cores (a pilot report's permutation step ran 3x slower on a
# busy 2-core machine, bench/README.md). Set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from gunicorn.glogging import Logger

from pulse.core.logging import add_redaction


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with link tokens removed from every line it writes."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        add_redaction(self.access_log)
        add_redaction(self.error_log)


# Access logging stays off unless asked for (--access-logfile -); when on, it is redacted.
logger_class = RedactingLogger
