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

# A `maintain` Spot Fleet replaces an instance it loses ("Spot Fleet request types",
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-requests.html#spot-fleet-request-types:
# "If a Spot Instance is interrupted, the fleet launches replacement instances"). moto keeps an
# interrupted instance in the fleet's list and never replaces it. The request's Type (default
# `maintain`, API_SpotFleetRequestConfigData) is kept on the request; every termination (a spot
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
