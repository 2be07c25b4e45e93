"""Runtime knobs of the stand-in, shared by every extension.

Changed through StandIn.configure() or POST /_standin/config. A reset of the
stand-in keeps them: they describe how the fake behaves, not AWS state.
"""
import base64
import os
import threading

_LOCK = threading.Lock()

SETTINGS = {
    "time_scale": 0.0,  # wall seconds per simulated AWS second; 0 = instant
    "throttle_rate": 0.0,  # probability that an AWS request is throttled
    "throttle_seed": None,  # seed for the throttling dice (None = random)
    "quotas": {},  # Service Quotas overrides {quota code: value}
    "prices": {},  # Price List / spot price overrides {instance type: {"on_demand": usd, "spot": usd}} (pricing_ext)
    # the account's On-Demand Capacity Reservations and Capacity Blocks, bought outside the collection (capacity_reservations_ext)
    "capacity_reservations": [],
    "cluster_endpoint": None,  # EKS endpoint reported for every cluster
    "cluster_ca": None,  # base64 PEM reported as certificateAuthority.data
    "kube_admin_kubeconfig": None,  # admin kubeconfig of the local API server: node groups register nodes there
    "cluster_oidc_issuer": None,  # service account token issuer of the local API server, reported as identity.oidc.issuer
    "cluster_oidc_jwks": None,  # its public keys (JWKS): STS verifies IRSA tokens with them (sts_ext)
    # the simulated instance boot ('2s', a Karpenter duration) of the KWOKNodeClasses standing for Auto Mode's (auto_mode_ext)
    "node_registration_delay": None,
}

_listeners = []


def on_change(callback):
    """Call callback(key, value) whenever a setting changes (used to reseed the throttle)."""
    _listeners.append(callback)


def get(key):
    return SETTINGS[key]


def snapshot():
    with _LOCK:
        return {key: (dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value)
                for key, value in SETTINGS.items()}


def _ca_data(value):
    """Accept a PEM file path, PEM text or base64 of a PEM; return base64 of the PEM."""
    if os.path.isfile(value):
        with open(value, "rb") as handle:
            value = handle.read().decode()
    if value.lstrip().startswith("-----BEGIN"):
        return base64.b64encode(value.encode()).decode()
    if not base64.b64decode(value, validate=True).lstrip().startswith(b"-----BEGIN"):
        raise ValueError("cluster_ca must be a PEM certificate, its base64, or a path to a PEM file")
    return value


def _validate(key, value):
    if key in ("time_scale", "throttle_rate"):
        value = float(value)
        if value < 0 or (key == "throttle_rate" and value > 1):
            raise ValueError(f"{key} out of range: {value}")
    elif key == "throttle_seed":
        value = None if value in (None, "") else int(value)
    elif key == "quotas":
        from .quotas_ext import EC2_QUOTAS  # pylint: disable=import-outside-toplevel

        unknown = set(value) - set(EC2_QUOTAS)
        if unknown:
            raise ValueError(f"unknown quota codes {sorted(unknown)}; known: {sorted(EC2_QUOTAS)}")
        value = {code: float(number) for code, number in value.items()}
    elif key == "prices":
        for instance_type, prices in value.items():
            if set(prices) - {"on_demand", "spot"} or any(float(usd) < 0 for usd in prices.values()):
                raise ValueError(f"prices[{instance_type}]: {{'on_demand': usd, 'spot': usd}} with non-negative numbers")
        value = {name: {kind: float(usd) for kind, usd in prices.items()} for name, prices in value.items()}
    elif key == "capacity_reservations":
        from .capacity_reservations_ext import validate  # pylint: disable=import-outside-toplevel

        value = validate(value)
    elif key == "cluster_endpoint":
        value = (value or "").rstrip("/") or None
    elif key == "cluster_ca":
        value = _ca_data(value) if value else None
    elif key in ("kube_admin_kubeconfig", "cluster_oidc_issuer", "node_registration_delay"):
        value = value or None
    elif key == "cluster_oidc_jwks":
        if value and not isinstance(value, dict) or (value and not isinstance(value.get("keys"), list)):
            raise ValueError("cluster_oidc_jwks must be a JWKS document ({'keys': [...]})")
        value = value or None
    return value


def update(values):
    """Set the given settings; an empty string clears cluster_endpoint / cluster_ca."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(SETTINGS)}")
    checked = {key: _validate(key, value) for key, value in values.items()}
    with _LOCK:
        SETTINGS.update(checked)
    for key, value in checked.items():
        for listener in _listeners:
            listener(key, value)
    return snapshot()
