"""moto's server, with every request applied atomically.

DynamoDB applies each request (a TransactWriteItems with its conditions, a conditional
UpdateItem) atomically. moto's threaded server does not: two concurrent transactions can both
pass a condition before either writes. This runs moto's own WSGI application behind one lock,
so each request is atomic as in AWS, while the server stays threaded (keep-alive connections,
concurrent clients). Usage: python scripts/moto_atomic.py HOST PORT
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def atomic(environ, start_response):
        with lock:
            # The whole response is produced under the lock, not only its first chunk.
            return list(app(environ, start_response))

    run_simple(host, port, atomic, threaded=True)


if __name__ == "__main__":
    main()
