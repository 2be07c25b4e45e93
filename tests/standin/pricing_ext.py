"""The AWS Price List API (GetProducts) and realistic EC2 spot price history - moto has neither.

GetProducts (X-Amz-Target AWSPriceListService.GetProducts, served in us-east-1 as AWS does) answers from PRICE_BOOK in
the Price List's own shape: each PriceList entry is a JSON *string* with product.attributes and terms.OnDemand ->
priceDimensions -> pricePerUnit.USD, one product per instance type (Linux, shared tenancy, no pre-installed software,
capacitystatus Used), plus the EKS cluster hour and the NAT gateway hour. Filters are TERM_MATCH on attributes, as
AWS applies them; an unknown filter field matches nothing. Other operations answer as AWS does to an unknown action.

DescribeSpotPriceHistory: moto answers 0.00001 USD for every type; here each zone of the region gets a price that is a
fixed fraction of the on-demand price (SPOT_FRACTION, different per zone), so estimates look like a real account's.
Overrides: configure(prices={"<instance type>": {"on_demand": x, "spot": y}}).
"""
import json

from moto.ec2.responses.spot_instances import SpotInstances

from . import config

# On-demand USD per hour, Linux, shared tenancy, us-east-1, as listed on the public EC2 pricing page (2026).
# The stand-in serves the same prices in every region (AWS's differ by region).
PRICE_BOOK = {
    "m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384,
    "g4dn.xlarge": 0.526, "g4dn.2xlarge": 0.752, "g4dn.4xlarge": 1.204, "g4dn.8xlarge": 2.176, "g4dn.12xlarge": 3.912,
    "g4dn.16xlarge": 4.352,
    "g5.xlarge": 1.006, "g5.2xlarge": 1.212, "g5.4xlarge": 1.624, "g5.8xlarge": 2.448, "g5.12xlarge": 5.672,
    "g5.16xlarge": 4.096, "g5.24xlarge": 8.144, "g5.48xlarge": 16.288,
    "g6.xlarge": 0.8048, "g6.2xlarge": 0.9776, "g6.4xlarge": 1.3232, "g6.8xlarge": 2.0144, "g6.12xlarge": 4.6016,
    "g6.16xlarge": 3.3968, "g6.24xlarge": 6.6752, "g6.48xlarge": 13.3504,
    "g6e.xlarge": 1.861, "g6e.2xlarge": 2.24208, "g6e.4xlarge": 3.00424, "g6e.8xlarge": 4.52856, "g6e.12xlarge": 10.49264,
    "g6e.16xlarge": 7.57719, "g6e.24xlarge": 15.06559, "g6e.48xlarge": 30.13118,
    "p4d.24xlarge": 21.96, "p4de.24xlarge": 27.447, "p5.4xlarge": 6.88, "p5.48xlarge": 55.04, "p5e.48xlarge": 62.0,
}
EKS_CLUSTER_HOUR = 0.10
NAT_GATEWAY_HOUR = 0.045
# Spot price as a fraction of on-demand, per zone letter (a, b, c, ...): zones differ, as on AWS.
SPOT_FRACTION = (0.38, 0.42, 0.47, 0.40, 0.45, 0.50)
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)",
                "eu-west-1": "EU (Ireland)", "ap-northeast-2": "Asia Pacific (Seoul)"}


def _price(instance_type, kind):
    override = (config.get("prices") or {}).get(instance_type) or {}
    if kind in override:
        return override[kind]
    on_demand = override.get("on_demand", PRICE_BOOK.get(instance_type))
    return on_demand if kind == "on_demand" else None


def _product(service, attributes, usd, sku):
    term = "%s.JRTCKXETXF" % sku
    return json.dumps({
        "product": {"productFamily": attributes.pop("productFamily"), "attributes": attributes, "sku": sku},
        "serviceCode": service,
        "terms": {"OnDemand": {term: {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
                                      "priceDimensions": {"%s.6YS6EN2CT7" % term: {
                                          "unit": "Hrs", "pricePerUnit": {"USD": "%.10f" % usd},
                                          "description": "$%s per hour" % usd, "beginRange": "0", "endRange": "Inf",
                                          "rateCode": "%s.6YS6EN2CT7" % term}}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z",
    })


def _products(service, region):
    location = REGION_NAMES.get(region, region)
    prefix = "USE1" if region == "us-east-1" else region.upper().replace("-", "")[:4]
    if service == "AmazonEKS":
        yield {"productFamily": "Compute", "regionCode": region, "location": location,
               "usagetype": "%s-AmazonEKS-Hours:perCluster" % prefix, "operation": "CreateOperation"}, EKS_CLUSTER_HOUR
        return
    if service != "AmazonEC2":
        return
    yield {"productFamily": "NAT Gateway", "regionCode": region, "location": location,
           "usagetype": "%s-NatGateway-Hours" % prefix, "operation": "NatGateway"}, NAT_GATEWAY_HOUR
    types = set(PRICE_BOOK) | set(config.get("prices") or {})
    for instance_type in sorted(types):
        usd = _price(instance_type, "on_demand")
        if usd is None:
            continue
        yield {"productFamily": "Compute Instance", "regionCode": region, "location": location,
               "instanceType": instance_type, "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
               "capacitystatus": "Used", "licenseModel": "No License required",
               "usagetype": "%s-BoxUsage:%s" % (prefix, instance_type), "operation": "RunInstances"}, usd


def get_products(body):
    """The GetProducts answer (status, dict) for a request body."""
    service = body.get("ServiceCode")
    if not service:
        return 400, {"__type": "InvalidParameterException", "Message": "ServiceCode is required"}
    filters = body.get("Filters") or []
    for item in filters:
        if item.get("Type") not in ("TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF"):
            return 400, {"__type": "InvalidParameterException", "Message": "unknown filter type %r" % item.get("Type")}
    found = []
    for index, (attributes, usd) in enumerate(_products(service, body.get("_region", "us-east-1"))):
        if all(str(attributes.get(item["Field"], "")) == str(item["Value"]) for item in filters):
            found.append(_product(service, dict(attributes), usd, "STANDIN%06d" % index))
    limit = int(body.get("MaxResults") or 100)
    start = int(body.get("NextToken") or 0)
    answer = {"FormatVersion": "aws_v1", "PriceList": found[start:start + limit]}
    if start + limit < len(found):
        answer["NextToken"] = str(start + limit)
    return 200, answer


def handle(environ, start_response):
    """WSGI handler of the Price List API (routed here by its X-Amz-Target header)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
    action = environ.get("HTTP_X_AMZ_TARGET", "").split(".", 1)[-1]
    region = next((term for term in environ.get("HTTP_AUTHORIZATION", "").split("/") if term.count("-") >= 2), "us-east-1")
    if action == "GetProducts":
        # the filter's regionCode decides which region's prices; the endpoint is us-east-1 (or eu-central-1, ap-south-1)
        body["_region"] = next((f["Value"] for f in body.get("Filters") or [] if f.get("Field") == "regionCode"), region)
        status, answer = get_products(body)
    else:
        status, answer = 400, {"__type": "UnknownOperationException", "Message": "unknown operation %s" % action}
    payload = json.dumps(answer).encode()
    start_response("%d %s" % (status, "OK" if status == 200 else "Bad Request"),
                   [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(payload)))])
    return [payload]


def _spot_price_history(method):
    def describe_spot_price_history(self):
        result = method(self)
        history = []
        for entry in result.result["SpotPriceHistory"]:
            on_demand = _price(entry["InstanceType"], "on_demand")
            spot = _price(entry["InstanceType"], "spot")
            if spot is None and on_demand is None:
                continue  # no price known: the type is not offered as spot here
            zone = entry["AvailabilityZone"]
            fraction = SPOT_FRACTION[(ord(zone[-1]) - ord("a")) % len(SPOT_FRACTION)]
            price = spot if spot is not None else on_demand * fraction
            history.append(dict(entry, SpotPrice="%.6f" % price, ProductDescription="Linux/UNIX"))
        result.result["SpotPriceHistory"] = history
        return result
    describe_spot_price_history.standin = True
    return describe_spot_price_history


def install():
    if not getattr(SpotInstances.describe_spot_price_history, "standin", False):
        SpotInstances.describe_spot_price_history = _spot_price_history(SpotInstances.describe_spot_price_history)
