"""The reconcile loop shared by the stand-in controllers that act on the local API server.

Each controller (EFS CSI provisioning, the NIM Operator, the service load balancer) is a ``reconcile(api_client)``
function; a ``Controller`` runs it every ``poll_seconds`` in a daemon thread of the AWS stand-in while the setting
``kube_admin_kubeconfig`` names an admin kubeconfig, reconnecting when it changes, and stops when it is cleared.
"""
import logging
import threading
import time
import uuid

from . import config

LOG = logging.getLogger(__name__)


class Controller:
    def __init__(self, name, reconcile, poll_seconds=1.0):
        self.name = name
        self.reconcile = reconcile
        self.poll_seconds = poll_seconds
        self._thread = None
        self._installed = False

    def serve(self, kubeconfig_path, stop=lambda: False):
        """Reconcile every poll_seconds until stop() says so."""
        from kubernetes import config as kube_config  # pylint: disable=import-outside-toplevel

        api_client = None
        while not stop():
            try:
                api_client = api_client or kube_config.new_client_from_config(config_file=kubeconfig_path)
                self.reconcile(api_client)
            except Exception as exc:  # pylint: disable=broad-except
                # a controller keeps going, like the real one: the next pass retries
                LOG.warning("%s stand-in pass failed: %s", self.name, exc)
                api_client = None
            time.sleep(self.poll_seconds)

    def _loop(self):
        while True:
            wanted = config.get("kube_admin_kubeconfig")
            if not wanted:
                self._thread = None
                return
            self.serve(wanted, stop=lambda path=wanted: config.get("kube_admin_kubeconfig") != path)

    def _changed(self, key, value):
        if key == "kube_admin_kubeconfig" and value and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="%s-standin-%s" % (self.name, uuid.uuid4().hex[:6]), daemon=True)
            self._thread.start()

    def install(self):
        if not self._installed:
            config.on_change(self._changed)
            self._installed = True
