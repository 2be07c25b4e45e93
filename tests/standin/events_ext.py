"""EventBridge -> SQS delivery evaluated the way AWS does (moto 5.2.5 delivers to any queue, whatever its policy or key).

- A rule delivers to an SQS target only when the queue policy lets the service principal events.amazonaws.com
  `sqs:SendMessage` on the queue for that rule (Deny first; aws:SourceArn / aws:SourceAccount / aws:SecureTransport
  conditions honoured), and, for an SSE-KMS queue, when the key is enabled, customer managed, and its key policy
  lets events.amazonaws.com use it (kms:GenerateDataKey and kms:Decrypt). AWS-managed keys (alias/aws/sqs) never do:
  their key policies cannot be changed.
- Each attempt is counted as CloudWatch does: `AWS/Events` `Invocations` / `FailedInvocations` per `RuleName`
  (and `TriggeredRules`), read with GetMetricStatistics / GetMetricData. A refused delivery drops the event.
- alias/aws/<service> keys (moto knows only some, not aws/sqs) appear on first use, AWS managed (KeyManager AWS,
  an AWS-shaped key policy), as AWS creates them.
- SQS: SSE-KMS and SSE-SQS are exclusive, as in AWS (a KMS key turns SqsManagedSseEnabled off and vice versa).
- PutEvents refuses sources beginning with `aws.` (NotAuthorizedForSourceException): only AWS services emit those.
  The stand-in emits them on a service's behalf through `emit()` / POST /_standin/events/emit.
"""
import fnmatch
import json
import threading

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow
from moto.events.models import EventsBackend, Rule, events_backends
from moto.kms.models import KmsBackend, kms_backends
from moto.sqs.models import Queue, sqs_backends

SERVICE = "events.amazonaws.com"
_LOCK = threading.Lock()
_REFUSALS = []  # (rule name, queue name, reason), newest last; cleared by reset()


def refusals():
    with _LOCK:
        return list(_REFUSALS)


def reset():
    with _LOCK:
        _REFUSALS.clear()


# ---- IAM-style policy evaluation (the subset resource policies of queues and keys use) -------------------------------
def _as_list(value):
    return value if isinstance(value, list) else [value]


def _principal_matches(statement, service):
    if "Principal" not in statement:
        return False
    principal = statement["Principal"]
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return "*" in _as_list(principal.get("AWS", [])) or service in _as_list(principal.get("Service", []))


def _matches_any(patterns, value, case_sensitive=True):
    for pattern in _as_list(patterns):
        if case_sensitive and fnmatch.fnmatchcase(value, pattern):
            return True
        if not case_sensitive and fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return True
    return False


def _condition_holds(operator, key, expected, context):
    if_exists = operator.endswith("IfExists")
    operator = operator[:-len("IfExists")] if if_exists else operator
    actual = next((value for name, value in context.items() if name.lower() == key.lower()), None)
    if actual is None:
        return if_exists or operator == "Null" and str(expected).lower() == "true"
    if operator == "Null":
        return str(expected).lower() == "false"
    expected = [str(value) for value in _as_list(expected)]
    if operator in ("StringEquals", "ArnEquals"):
        return str(actual) in expected
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return str(actual) not in expected
    if operator in ("StringLike", "ArnLike"):
        return _matches_any(expected, str(actual))
    if operator in ("StringNotLike", "ArnNotLike"):
        return not _matches_any(expected, str(actual))
    if operator == "StringEqualsIgnoreCase":
        return str(actual).lower() in [value.lower() for value in expected]
    if operator == "Bool":
        return str(actual).lower() in [value.lower() for value in expected]
    return False  # an operator we do not model never holds


def _statement_applies(statement, service, action, resource, context):
    if not _principal_matches(statement, service):
        return False
    if "Action" not in statement or not _matches_any(statement["Action"], action, case_sensitive=False):
        return False
    if not _matches_any(statement.get("Resource", "*"), resource):
        return False
    return all(_condition_holds(operator, key, expected, context)
               for operator, block in (statement.get("Condition") or {}).items()
               for key, expected in block.items())


def evaluate(policy, service, action, resource, context):
    """None when `policy` allows `service` `action` on `resource`, else the reason in words."""
    if not policy:
        return "it has no resource policy"
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = _as_list(document.get("Statement", []))
    for statement in statements:
        if statement.get("Effect") == "Deny" and _statement_applies(statement, service, action, resource, context):
            return "statement %r denies %s %s" % (statement.get("Sid", "?"), service, action)
    if any(statement.get("Effect") == "Allow" and _statement_applies(statement, service, action, resource, context)
           for statement in statements):
        return None
    return "no statement allows %s %s for this rule" % (service, action)


# ---- delivery -------------------------------------------------------------------------------------------------------
def _kms_refusal(account, region, key_ref):
    backend = kms_backends[account][region]
    if key_ref.startswith("arn:") and ":alias/" in key_ref:
        key_ref = "alias/" + key_ref.split(":alias/", 1)[1]
    key_id = backend.get_key_id_from_alias(key_ref) if key_ref.startswith("alias/") else KmsBackend.get_key_id(key_ref)
    key = backend.keys.get(key_id or "")
    if key is None:
        return "its KMS key %s does not exist" % key_ref
    if key.key_manager == "AWS":
        return "its KMS key %s is AWS managed; its key policy cannot let %s use it" % (key_ref, SERVICE)
    if key.key_state != "Enabled":
        return "its KMS key %s is %s" % (key_ref, key.key_state)
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        reason = evaluate(key.policy, SERVICE, action, key.arn, {"aws:SourceAccount": account, "aws:SecureTransport": "true"})
        if reason:
            return "the key policy of its KMS key %s: %s" % (key_ref, reason)
    return None


def delivery_refusal(rule, queue_name):
    """None when `rule` can deliver to the queue, else why not (what AWS would count as a failed invocation)."""
    try:
        queue = sqs_backends[rule.account_id][rule.region_name].get_queue(queue_name)
    except Exception:  # pylint: disable=broad-except  # moto raises QueueDoesNotExist
        return "the queue does not exist"
    context = {"aws:SourceArn": rule.arn, "aws:SourceAccount": rule.account_id, "aws:SecureTransport": "true"}
    reason = evaluate(queue.policy, SERVICE, "sqs:SendMessage", queue.queue_arn, context)
    if reason:
        return "the queue policy: " + reason
    if queue.kms_master_key_id:
        return _kms_refusal(rule.account_id, rule.region_name, queue.kms_master_key_id)
    return None


def _count(rule, name):
    cloudwatch_backends[rule.account_id][rule.region_name].put_metric_data("AWS/Events", [{
        "MetricName": name, "Value": 1.0, "Unit": "Count", "Timestamp": utcnow(),
        "Dimensions": [{"Name": "RuleName", "Value": rule.name}]}])


def _send_to_targets(original):
    def send_to_targets(self, original_event, transform_input=True):
        if self.event_pattern.matches_event(original_event) and self.targets:
            _count(self, "TriggeredRules")
        return original(self, original_event, transform_input)
    send_to_targets.standin = True
    return send_to_targets


def _send_to_sqs_queue(original):
    def send_to_sqs_queue(self, resource_id, event, group_id=None):
        _count(self, "Invocations")
        reason = delivery_refusal(self, resource_id)
        if reason:
            with _LOCK:
                _REFUSALS.append((self.name, resource_id, reason))
            _count(self, "FailedInvocations")
            return None
        return original(self, resource_id, event, group_id)
    send_to_sqs_queue.standin = True
    return send_to_sqs_queue


def _put_events(original):
    def put_events(self, events):
        own = [event for event in events if not str(event.get("Source") or "").startswith("aws.")]
        results = iter(original(self, own) if own else [])
        return [{"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}
                if str(event.get("Source") or "").startswith("aws.") else next(results) for event in events]
    put_events.standin = True
    put_events.unchecked = original
    return put_events


def emit(account, region, source, detail_type, detail, resources=()):
    """An AWS service (source aws.*) puts an event on the default bus; returns PutEvents' entry."""
    backend = events_backends[account][region]
    entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "Resources": list(resources)}
    return EventsBackend.put_events.unchecked(backend, [entry])[0]


# ---- AWS-managed keys, SSE exclusivity ------------------------------------------------------------------------------
def _get_key_id_from_alias(original):
    """AWS creates the managed key of alias/aws/<service> when the service first uses it (moto knows only some)."""
    def get_key_id_from_alias(self, alias_name):
        key_id = original(self, alias_name)
        if key_id is not None or not alias_name.startswith("alias/aws/"):
            return key_id
        key = self.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "Default key", None)
        self.create_alias(key.id, alias_name)
        service = alias_name.split("/", 2)[2]
        key.key_manager = "AWS"
        key.description = "Default key that protects my %s data when no other key is defined" % service
        key.policy = json.dumps({"Version": "2012-10-17", "Id": "auto-" + service, "Statement": [
            {"Sid": "Allow access through %s for all principals in the account that are authorized to use it" % service,
             "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": self.account_id, "kms:ViaService": "%s.%s.amazonaws.com" % (service, self.region_name)}}},
            {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::%s:root" % self.account_id},
             "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"}]})
        return key.id
    get_key_id_from_alias.standin = True
    return get_key_id_from_alias


def _set_attributes(original):
    def set_attributes(self, attributes, now=None):
        original(self, attributes, now)
        if attributes.get("KmsMasterKeyId"):  # SSE-KMS (moto's creation defaults always carry SqsManagedSseEnabled)
            self.sqs_managed_sse_enabled = False
            if str(attributes["KmsMasterKeyId"]).startswith("alias/aws/"):  # AWS creates its managed key on first use
                kms_backends[self.account_id][self.region].get_key_id_from_alias(attributes["KmsMasterKeyId"])
        elif str(attributes.get("SqsManagedSseEnabled", "")).lower() == "true":
            self.sqs_managed_sse_enabled = True
            self.kms_master_key_id = None
        elif "KmsMasterKeyId" in attributes:  # "" turns SSE-KMS off
            self.kms_master_key_id = None
    set_attributes.standin = True
    return set_attributes


def install():
    for owner, name, wrap in ((Rule, "send_to_targets", _send_to_targets), (Rule, "_send_to_sqs_queue", _send_to_sqs_queue),
                              (EventsBackend, "put_events", _put_events), (KmsBackend, "get_key_id_from_alias", _get_key_id_from_alias),
                              (Queue, "_set_attributes", _set_attributes)):
        method = getattr(owner, name)
        if not getattr(method, "standin", False):
            setattr(owner, name, wrap(method))
