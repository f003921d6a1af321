"""moto's server, with every request applied atomically.

DynamoDB applies each request (a TransactWriteItems with its conditions, a conditional
UpdateItem) atomically. moto's threaded server does not: two concurrent transactions can both
pass a condition before either writes. This runs moto's own WSGI application behind one lock,
so each request is atomic as in AWS, while the server stays threaded (keep-alive connections,
concurrent clients). Usage: python scripts/moto_atomic.py HOST PORT

It also answers GET /_cloudsec/sns/sent?topic=ARN&protocol=email with what moto keeps of the
messages published to a topic, each as a subscription of that protocol receives it (moto
delivers to SQS, HTTP and Lambda, and only records the others): how the tests read what an
e-mail subscriber would get.
"""

import json
import os
import sys
import threading
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def atomic(environ, start_response):
        if environ.get("PATH_INFO") == "/_cloudsec/sns/sent":
            with lock:
                return [sent(environ, start_response)]
        with lock:
            # The whole response is produced under the lock, not only its first chunk.
            return list(app(environ, start_response))

    run_simple(host, port, atomic, threaded=True)


def sent(environ, start_response):
    from moto.sns.models import sns_backends

    query = parse_qs(environ.get("QUERY_STRING", ""))
    topic = query.get("topic", [""])[0]
    protocol = query.get("protocol", ["email"])[0]
    parts = topic.split(":")
    out = []
    if len(parts) == 6:
        backend = sns_backends[parts[4]][parts[3]]
        t = backend.topics.get(topic)
        for _id, message, subject, _attrs, _group in t.sent_notifications if t else []:
            try:
                structured = json.loads(message)
                if isinstance(structured, dict) and "default" in structured:
                    message = structured.get(protocol) or structured["default"]
            except ValueError:
                pass
            out.append({"subject": subject, "message": message})
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return body


if __name__ == "__main__":
    main()
