#!/usr/bin/env python
"""Storage probe of the verify role: write a file on the mounted volume, flush it to the server, read it back,
compare, remove it. The verdict is the container's termination message (and its exit code), so the verify role
judges the pod without reading logs. Standard library only (runs in the pinned python image)."""
import os
import sys
import uuid


def finish(code, text, termination_log):
    try:
        with open(termination_log, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        pass  # outside Kubernetes there may be no termination log; stdout still says it
    print(text)
    return code


def probe(directory, termination_log="/dev/termination-log"):
    path = os.path.join(directory, "probe-" + uuid.uuid4().hex)
    payload = uuid.uuid4().hex.encode() * 4096  # 128 KiB: more than one NFS write
    try:
        with open(path, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        with open(path, "rb") as handle:
            back = handle.read()
        os.remove(path)
    except OSError as error:
        return finish(1, "I/O error on %s: %s" % (directory, error), termination_log)
    if back != payload:
        return finish(1, "read back %d bytes that differ from the %d written" % (len(back), len(payload)), termination_log)
    return finish(0, "wrote, read back and removed %d bytes in %s" % (len(payload), directory), termination_log)


if __name__ == "__main__":
    sys.exit(probe(sys.argv[1] if len(sys.argv) > 1 else "/data"))
