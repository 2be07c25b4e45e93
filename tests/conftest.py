"""Make the collection importable as ansible_collections.eks_llm.inference in tests.

`make setup` links the repository into .cache/collections; the bundled
amazon.aws / community.aws / kubernetes.core come from site-packages and the
two `ansible_collections` namespace portions merge.
"""
import gc
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "eks_llm", "inference")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(REPO, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


def _share_botocore_models():
    """Every test that mocks AWS starts a new boto3 session (moto resets the default one), and each session parses
    the service models' JSON again (~0.15 s for EC2). The loaded data is read-only to botocore (one loader already
    hands the same object to every client), so the tests' process parses each file once."""
    try:
        from botocore import loaders  # pylint: disable=import-outside-toplevel
    except ImportError:
        return
    parsed = {}
    load_file = loaders.JSONFileLoader.load_file

    def load_file_once(self, file_path):
        if file_path not in parsed:
            parsed[file_path] = load_file(self, file_path)
        return parsed[file_path]
    loaders.JSONFileLoader.load_file = load_file_once

    # A loader caches what it found on disk (the services there, their API versions, the data of each) for its own
    # life only, and every session has its own: ~20 ms of directory listings and stats per client. Loaders that
    # search the same paths find the same things, so they share one cache.
    caches = {}
    init = loaders.Loader.__init__

    def init_sharing_the_cache(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._cache = caches.setdefault(tuple(self.search_paths), {})
    loaders.Loader.__init__ = init_sharing_the_cache


def _share_botocore_event_setup():
    """Each session registers botocore's ~200 built-in handlers: every registration translates the event name through
    the default aliases (a per-session cache) and inspects the handler's signature (accepts **kwargs?). Both answers
    depend on the name or the function only, so the tests' process computes each once."""
    try:
        from botocore import hooks  # pylint: disable=import-outside-toplevel
    except ImportError:
        return
    aliased = {}
    init = hooks.EventAliaser.__init__

    def init_sharing_the_aliases(self, event_emitter, event_aliases=None):
        init(self, event_emitter, event_aliases)
        if event_aliases is None:
            self._alias_name_cache = aliased
    hooks.EventAliaser.__init__ = init_sharing_the_aliases

    accepting = {}
    accepts_kwargs = hooks.accepts_kwargs

    def accepts_kwargs_once(func):
        key = getattr(func, "__func__", func)
        try:
            return accepting[key]
        except KeyError:
            accepting[key] = accepts_kwargs(func)
            return accepting[key]
        except TypeError:  # unhashable callable
            return accepts_kwargs(func)
    hooks.accepts_kwargs = accepts_kwargs_once


_share_botocore_models()
_share_botocore_event_setup()


def pytest_collection_finish(session):  # pylint: disable=unused-argument
    """Once collected, the modules, botocore's models and the tests' data live as long as the process: the cyclic
    garbage collector need not walk them again on every collection it runs (they are most of the heap), and with
    moto creating many small objects per request a larger first-generation threshold runs it less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50000, 20, 100)
