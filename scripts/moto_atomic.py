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

And it makes TransactWriteItems cost what its items cost: moto backs each transaction up by a
deep copy of the whole table, once per item of the transaction, so a transaction's cost grew
with the table (the redelivery trials spent most of their time copying). Here the items the
transaction names are copied instead, and put back if it is cancelled: the same outcome, as
every request runs alone under the lock.
"""

import copy
import json
import os
import sys
import threading
from urllib.parse import parse_qs

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class _CopyTablesByReference:
    """Stands for the `copy` module inside moto's DynamoDB models: a table is not copied (the
    transaction's own backup below restores its items), anything else is."""

    @staticmethod
    def deepcopy(obj, memo=None):
        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)


def _transact_write_items_backing_up_items(transact):
    def transact_write_items(self, transact_items):
        backup = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key")
            if key is None:
                attrs = op.get("Item", {})
                key = {a: attrs[a] for a in (table.hash_key_attr, table.range_key_attr) if a and a in attrs}
            try:
                hash_value, range_value = self.get_keys_value(table, key)
            except Exception:
                continue  # an invalid key: moto refuses the transaction before writing anything
            old = table.get_item(hash_value, range_value)
            backup.append((table, hash_value, range_value, copy.deepcopy(old)))
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, old in reversed(backup):
                if range_value is None:
                    if old is None:
                        table.items.pop(hash_value, None)
                    else:
                        table.items[hash_value] = old
                elif old is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                    if hash_value in table.items and not table.items[hash_value]:
                        del table.items[hash_value]
                else:
                    table.items[hash_value][range_value] = old
            raise

    return transact_write_items


dynamodb_models.copy = _CopyTablesByReference
dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items_backing_up_items(
    dynamodb_models.DynamoDBBackend.transact_write_items
)


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
