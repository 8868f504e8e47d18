"""What the fixture builders (scripts/build-*-fixtures.py) share: compact JSON and the
deterministic ids of log events and Firehose records."""
import base64
import hashlib
import json


def compact(obj):
    """JSON without spaces, non-ASCII kept, as AWS writes it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def digits(text):
    """56 decimal digits derived from `text`: the shape of a CloudWatch Logs event id."""
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:56].rjust(56, "0")


def case_id(case, i):
    """The id of the `i`-th log event or record of the fixture `case`."""
    return digits(f"{case}/{i}")


def b64(data):
    return base64.b64encode(data).decode()
