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
