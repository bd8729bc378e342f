"""Child process of the crash test: dispatches the outbox in a loop until the test SIGKILLs it.

Usage: python -m tests.outbox_crash_child <database url> <smtp port> <sms base url> [send threads]
"""

from __future__ import annotations

import sys

from app import create_app
from app.config import TestConfig
from app.notify.dispatch import dispatch_due
from tests.factories import SMS_ACCOUNT_SID, SMS_AUTH_TOKEN


def main() -> None:
    """Dispatch forever against the given database and local servers."""
    url, smtp_port, sms_url = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else TestConfig.OUTBOX_SEND_THREADS
    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=int(smtp_port),
        SMS_BASE_URL=sms_url,
        SMS_ACCOUNT_SID=SMS_ACCOUNT_SID,
        SMS_AUTH_TOKEN=SMS_AUTH_TOKEN,
        OUTBOX_BATCH_SIZE=1000,
        OUTBOX_SEND_THREADS=threads,
    )
    with app.app_context():
        print("dispatching", flush=True)
        while True:
            dispatch_due()


if __name__ == "__main__":
    main()
