"""
Loaded by the moto_server process the simulator starts (simulator/moto.ts puts this folder on
PYTHONPATH).

What EventBridge delivers: moto's rules deliver an event to an SQS target through a default input
template that leaves out `account`. AWS delivers the whole event ("Amazon EventBridge events",
https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html: version, id, detail-type,
source, account, time, region, resources, detail), and the router requires `account`; the template
gets it back (test/simulator/events.test.ts and test/stack/aws-kit.test.ts check the delivered body).

moto's SQS is not safe under concurrent calls (its server answers each request on a thread): a
delete rebuilds the queue's message list from a snapshot, so two DeleteMessageBatch calls at once
put back messages the other deleted, which come back after their visibility timeout (measured: 4
threads deleting 500 received messages left 105-293 of them; the router's bench saw 7-12 messages
redelivered 30 s late). Every call that reads or changes a queue's messages now holds that queue's
own lock (a long poll still releases it while it waits), as AWS's queues behave.

Two costs of moto's SQS that AWS does not have, removed without changing what any call answers
(measured in bench/router.ts, "moto alone"):

- every message received re-reads the queue's MessageRetentionPeriod through get_queue_attributes,
  which recomputes every attribute, three of them by scanning the whole queue: a receive of 10 at a
  depth of 1,000 cost 0.9 s, 98 % of it there. The retention period is read from the queue itself.
- moto's clock (unix_time, unix_time_millis) builds datetimes on every call, and the queue scans call
  it per message: 6.7 us a call. Without an argument it is the wall clock, so time.time() answers the same.

EventBridge across accounts, as "Sending and receiving events between AWS accounts in Amazon
EventBridge" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html) and
"Permissions for Amazon EventBridge event buses" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html)
describe it, where moto differs:

- a rule whose target is an event bus in another account delivers only when that bus's
  resource-based policy allows the sending account events:PutEvents (moto delivered to any bus);
  an event it cannot deliver goes to the target's dead-letter queue ("Using dead-letter queues to
  process undelivered events", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html);
- the event arrives as it was sent: its `account` (the member account that emitted it), `region`,
  `time`, `id` and `resources` are kept (moto re-put it as a new event of the receiving account,
  with no resources and a new time), so the central bus's rules see where it came from;
- `AWS::Events::EventBusPolicy` in CloudFormation (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-events-eventbuspolicy.html),
  which moto skipped, adds its `Statement` to the bus's policy (the kit's central bus policy).
test/accounts/events-across-accounts.test.ts checks all three.

`AWS::CloudWatch::Alarm` in CloudFormation (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html),
which moto skipped (its CloudWatch models only dashboards): a metric alarm is created with
PutMetricAlarm's fields, its Ref is the alarm's name, and deleting the stack deletes it (the kit's
dead-letter queue alarm; test/stack/aws-kit.test.ts reads it back).
"""
import sys
import time

try:
    import moto.events.utils as _events_utils

    _events_utils.EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", "account": "<account>", '
        '"time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}'
    )
except Exception as err:  # moto's layout changed: delivered events lack `account`, and say so on moto's log
    print(f"fleetops moto patch (EventBridge envelope) not applied: {err!r}", file=sys.stderr)

try:
    import moto.core.utils as _utils
    import moto.sqs.models as _sqs

    def _unix_time(dt=None):
        return time.time() if dt is None else _utils.unix_time(dt)

    def _unix_time_millis(dt=None):
        return time.time() * 1000.0 if dt is None else _utils.unix_time_millis(dt)

    _sqs.unix_time = _unix_time
    _sqs.unix_time_millis = _unix_time_millis

    def _is_message_valid_based_on_retention_period(self, queue_name, message):
        queue = self.get_queue(queue_name)
        return int(queue.message_retention_period) + message.sent_timestamp / 1000 > time.time()

    _sqs.SQSBackend.is_message_valid_based_on_retention_period = _is_message_valid_based_on_retention_period
except Exception as err:  # moto's layout changed: run unpatched, and say so on moto's log
    print(f"fleetops moto patches (SQS costs) not applied: {err!r}", file=sys.stderr)

try:
    import functools

    import moto.sqs.models as _sqs_models

    def _one_at_a_time(fn):
        @functools.wraps(fn)
        def locked(self, queue_name, *args, **kwargs):
            # The queue's Condition (an RLock): add_message and the long poll's wait use it too.
            with self.get_queue(queue_name)._messages_lock:
                return fn(self, queue_name, *args, **kwargs)

        return locked

    for _name in ("send_message", "receive_message", "delete_message", "change_message_visibility", "purge_queue"):
        setattr(_sqs_models.SQSBackend, _name, _one_at_a_time(getattr(_sqs_models.SQSBackend, _name)))
except Exception as err:  # moto's layout changed: concurrent calls may race, and say so on moto's log
    print(f"fleetops moto patch (SQS locking) not applied: {err!r}", file=sys.stderr)


try:
    import copy as _copy
    import json as _json

    import moto.events.models as _events
    from moto.core.common_models import CloudFormationModel as _CfnModel
    from moto.utilities.arns import parse_arn as _parse_arn

    def _remote_bus(rule, target):
        arn = target.get("Arn", "")
        if ":event-bus/" not in arn:
            return None
        parsed = _parse_arn(arn)
        if parsed.account == rule.account_id and parsed.region == rule.region_name:
            return None
        return parsed

    def _admits(bus, account):
        """The bus policy allows `account` events:PutEvents (principal: the account, its root, or *)."""
        names = {account, f"arn:aws:iam::{account}:root", "*"}
        for stmt in bus._statements.values():
            d = stmt.describe()
            if d.get("Effect") != "Allow":
                continue
            actions = d.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            if not any(a in ("events:PutEvents", "events:*", "*") for a in actions):
                continue
            p = d.get("Principal")
            principals = ["*"] if p == "*" else (p.get("AWS") if isinstance(p, dict) else p)
            principals = principals if isinstance(principals, list) else [principals]
            if any(str(x) in names for x in principals):
                return True
        return False

    _send_to_targets = _events.Rule.send_to_targets

    def _send_to_targets_across_accounts(self, original_event, transform_input=True):
        remote = [(t, _remote_bus(self, t)) for t in self.targets]
        remote = [(t, arn) for t, arn in remote if arn is not None]
        if not remote:
            return _send_to_targets(self, original_event, transform_input)
        # Local targets may rewrite the event (moto formats `time` in place for SQS): forward a copy as sent.
        sent = _copy.deepcopy(original_event)
        saved = self.targets
        try:
            self.targets = [t for t in saved if all(t is not r for r, _ in remote)]
            _send_to_targets(self, original_event, transform_input)
        finally:
            self.targets = saved
        if not self.event_pattern.matches_event(sent):
            return
        for _target, arn in remote:
            try:
                bus = _events.events_backends[arn.account][arn.region].describe_event_bus(arn.resource_id)
            except Exception as err:  # no such bus: AWS counts a failed invocation
                print(f"fleetops: event to {_target.get('Arn')} not delivered: {err!r}", file=sys.stderr)
                continue
            if arn.account != self.account_id and not _admits(bus, self.account_id):
                print(f"fleetops: event bus {bus.arn} does not allow account {self.account_id} events:PutEvents; event not delivered", file=sys.stderr)
                # "Using dead-letter queues to process undelivered events": the rule target's DLQ gets it.
                dlq = (_target.get("DeadLetterConfig") or {}).get("Arn")
                if dlq:
                    self._send_to_sqs_queue(_parse_arn(dlq).resource_id, _copy.deepcopy(sent))
                continue
            for rule in list(bus.rules.values()):
                rule.send_to_targets(_copy.deepcopy(sent))

    _events.Rule.send_to_targets = _send_to_targets_across_accounts

    class _EventBusPolicy(_CfnModel):
        # moto's model metaclass names the service after the module (moto.<service>....).
        __module__ = "moto.events.fleetops_bus_policy"

        def __init__(self, bus, sid):
            self.bus = bus
            self.sid = sid

        @staticmethod
        def cloudformation_name_type():
            return "StatementId"

        @staticmethod
        def cloudformation_type():
            return "AWS::Events::EventBusPolicy"

        @classmethod
        def has_cfn_attr(cls, attr):
            return False

        @property
        def physical_resource_id(self):
            return self.sid

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            props = cloudformation_json["Properties"]
            backend = _events.events_backends[account_id][region_name]
            bus = backend.describe_event_bus(props.get("EventBusName") or "default")
            sid = props.get("StatementId") or resource_name
            stmt = props.get("Statement")
            if isinstance(stmt, str):
                stmt = _json.loads(stmt)
            if stmt is None:  # the legacy form: Action, Principal (an account id or *)
                stmt = {"Effect": "Allow", "Principal": {"AWS": props["Principal"]}, "Action": props.get("Action", "events:PutEvents"), "Resource": bus.arn}
            bus.add_policy({"Statement": [dict(stmt, Sid=sid)]})
            return cls(bus, sid)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
            original_resource.bus.remove_statement(original_resource.sid)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
            pass
except Exception as err:  # moto's layout changed: cross-account delivery is moto's own, and say so on moto's log
    print(f"fleetops moto patch (EventBridge across accounts) not applied: {err!r}", file=sys.stderr)
# A `maintain` Spot Fleet replaces an instance it loses ("Spot Fleet request types",
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-requests.html#spot-fleet-request-types:
# "If a Spot Instance is interrupted, the fleet launches replacement instances"). moto keeps an
# interrupted instance in the fleet's list and never replaces it. The request's Type (default
# `maintain`, API_SpotFleetRequestConfigData) is kept on the request and reported by DescribeSpotFleetRequests; every termination (a spot
# reclaim, TerminateInstances) takes the instance out of its fleet, lowers the fulfilled capacity
# by its weight, and a `maintain` fleet still `active` below its target launches the difference.
# Auto Scaling groups need nothing: moto's TerminateInstances already has them replace the instance.
try:
    import moto.ec2.models.instances as _instances
    import moto.ec2.responses.spot_fleets as _spot_fleets

    _request_spot_fleet = _spot_fleets.SpotFleets.request_spot_fleet

    def _request_spot_fleet_with_type(self):
        result = _request_spot_fleet(self)
        fleet_type = (self._get_param("SpotFleetRequestConfig", {}) or {}).get("Type") or "maintain"
        for fleet in self.ec2_backend.spot_fleet_requests.values():
            if not hasattr(fleet, "fleetops_type"):
                fleet.fleetops_type = fleet_type
        return result

    _spot_fleets.SpotFleets.request_spot_fleet = _request_spot_fleet_with_type

    # DescribeSpotFleetRequests reports the request's Type, as AWS does (moto leaves it out).
    import moto.ec2.models.spot_requests as _spot_requests

    _fleet_config = _spot_requests.SpotFleetRequest.spot_fleet_request_config

    def _fleet_config_with_type(self):
        config = _fleet_config.fget(self)
        config["Type"] = getattr(self, "fleetops_type", "maintain")
        return config

    _spot_requests.SpotFleetRequest.spot_fleet_request_config = property(_fleet_config_with_type)

    def _weight(fleet, instance):
        for spec in fleet.launch_specs:
            if spec.instance_type == instance.instance_type and spec.subnet_id == instance.subnet_id:
                return float(spec.weighted_capacity or 1)
        for spec in fleet.launch_specs:
            if spec.instance_type == instance.instance_type:
                return float(spec.weighted_capacity or 1)
        return 1.0

    _terminate_instances = _instances.InstanceBackend.terminate_instances

    def _terminate_instances_maintained(self, instance_ids):
        # moto's Instance.terminate drops the instance's request from its fleet, but lowers the
        # fulfilled capacity only when the launch spec names the instance's subnet: done here instead.
        ids = set(instance_ids or [])
        before = []
        for fleet in list(getattr(self, "spot_fleet_requests", {}).values()):
            lost = [r for r in fleet.spot_requests if r.instance is not None and r.instance.id in ids and r.instance.state == "running"]
            if lost:
                before.append((fleet, fleet.fulfilled_capacity, sum(_weight(fleet, r.instance) for r in lost), lost))
        out = _terminate_instances(self, instance_ids)
        for fleet, fulfilled, weight, lost in before:
            fleet.spot_requests = [r for r in fleet.spot_requests if r not in lost]
            fleet.fulfilled_capacity = max(0.0, fulfilled - weight)
            missing = fleet.target_capacity - fleet.fulfilled_capacity
            if getattr(fleet, "fleetops_type", "maintain") == "maintain" and fleet.state == "active" and missing > 0:
                fleet.create_spot_requests(missing)
        return out

    _instances.InstanceBackend.terminate_instances = _terminate_instances_maintained
except Exception as err:  # moto's layout changed: maintain fleets do not replace, and say so on moto's log
    print(f"fleetops moto patch (Spot Fleet maintain) not applied: {err!r}", file=sys.stderr)

try:
    import moto.cloudwatch.models as _cloudwatch
    from moto.core.common_models import CloudFormationModel as _AlarmCfnModel

    class _MetricAlarm(_AlarmCfnModel):
        # moto's model metaclass names the service after the module (moto.<service>....).
        __module__ = "moto.cloudwatch.fleetops_alarm"

        def __init__(self, name):
            self.name = name

        @staticmethod
        def cloudformation_name_type():
            return "AlarmName"

        @staticmethod
        def cloudformation_type():
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def has_cfn_attr(cls, attr):
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name):
            return self.arn

        @property
        def physical_resource_id(self):
            return self.name

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            props = cloudformation_json["Properties"]
            backend = _cloudwatch.cloudwatch_backends[account_id][region_name]
            name = props.get("AlarmName") or resource_name
            dims = [{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])]
            alarm = backend.put_metric_alarm(
                name=name,
                namespace=props.get("Namespace"),
                metric_name=props.get("MetricName"),
                comparison_operator=props["ComparisonOperator"],
                evaluation_periods=int(props["EvaluationPeriods"]),
                period=int(props["Period"]) if "Period" in props else None,
                threshold=float(props["Threshold"]) if "Threshold" in props else None,
                statistic=props.get("Statistic"),
                description=props.get("AlarmDescription"),
                dimensions=dims,
                alarm_actions=props.get("AlarmActions") or [],
                ok_actions=props.get("OKActions") or [],
                insufficient_data_actions=props.get("InsufficientDataActions") or [],
                datapoints_to_alarm=int(props["DatapointsToAlarm"]) if "DatapointsToAlarm" in props else None,
                unit=props.get("Unit"),
                actions_enabled=props.get("ActionsEnabled", True) not in (False, "false"),
                treat_missing_data=props.get("TreatMissingData"),
            )
            out = cls(name)
            out.arn = alarm.alarm_arn
            return out

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
            cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
            _cloudwatch.cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])
except Exception as err:  # moto's layout changed: CloudFormation skips alarms, and say so on moto's log
    print(f"fleetops moto patch (CloudFormation alarms) not applied: {err!r}", file=sys.stderr)
