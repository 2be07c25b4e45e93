"""Time replay: long AWS operations show an in-progress status for a while.

An operation that takes `real_seconds` in AWS lasts `real_seconds * time_scale`
wall seconds here. Three small primitives cover every case:

* start()  records the operation in the timeline and returns its end time;
* hold()   makes an attribute (or a dict key) read a busy value until then;
* after()  runs a callback once the end has passed (e.g. to really delete).

Callbacks run from run_due(), which the WSGI app calls before every request,
so a client never sees a resource whose deadline passed but whose final
change has not been applied.
"""
import heapq
import itertools
import logging
import threading
import time

from . import config

LOG = logging.getLogger(__name__)
LOCK = threading.RLock()
PENDING = "_standin_pending"  # key in obj.__dict__ / record dict: {attr: (end, busy value)}

_timeline = []
_due = []  # heap of (end, seq, callback)
_seq = itertools.count()


def start(service, operation, resource, real_seconds):
    """Record a simulated operation starting now; return its wall-clock end."""
    with LOCK:
        now = time.time()
        end = now + real_seconds * config.get("time_scale")
        _timeline.append({"service": service, "operation": operation, "resource": resource,
                          "start": now, "end": end, "real_seconds": real_seconds})
        return end


def _store(target):
    return target if isinstance(target, dict) else target.__dict__


def hold(target, attr, busy, end):
    """Until `end`, reading `attr` of target (object with TimedAttr, or a record dict seen through view()) gives `busy`."""
    with LOCK:
        if end > time.time():
            _store(target).setdefault(PENDING, {})[attr] = (end, busy)
        else:
            cancel(target, attr)


def cancel(target, attr):
    with LOCK:
        _store(target).get(PENDING, {}).pop(attr, None)


def after(end, callback):
    """Run callback once `end` has passed (at once if it already has)."""
    with LOCK:
        if end <= time.time():
            callback()
        else:
            heapq.heappush(_due, (end, next(_seq), callback))


def current(store, attr, final):
    pending = store.get(PENDING, {}).get(attr)
    if pending and time.time() < pending[0]:
        return pending[1]
    return final


def busy(target, attr):
    """True while a hold() on target.attr is still running."""
    pending = _store(target).get(PENDING, {}).get(attr)
    return bool(pending) and time.time() < pending[0]


def view(record):
    """Public copy of a record dict: held values applied, private (_x) keys and None values dropped."""
    with LOCK:
        return {key: current(record, key, value) for key, value in record.items()
                if not key.startswith("_") and value is not None}


def run_due():
    with LOCK:
        now = time.time()
        while _due and _due[0][0] <= now:
            callback = heapq.heappop(_due)[2]
            try:
                callback()
            except Exception:  # pylint: disable=broad-except
                # A failed finaliser must not break the request that triggered it.
                LOG.exception("time replay callback failed")


def timeline():
    with LOCK:
        return [dict(entry) for entry in _timeline]


def reset():
    with LOCK:
        _timeline.clear()
        _due.clear()


class TimedAttr:
    """Data descriptor put on a moto model class: the stored value lives in the
    instance __dict__ under the same name (so moto's __dict__-based JSON still
    sees it), reads go through current() so a hold() can mask it."""

    def __init__(self, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return current(obj.__dict__, self.name, obj.__dict__.get(self.name))

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value


def timed(cls, name):
    if not isinstance(cls.__dict__.get(name), TimedAttr):
        setattr(cls, name, TimedAttr(name))
