"""What moto's CloudFormation does not build, and the warning it gives for each.

moto warns (from its server thread, where ``filterwarnings = error`` would turn
the warning into a 500) and skips these resource types; the tests assert them
through the template instead (test_template.py, test_template_hardening.py).
"""

#: A ``filterwarnings`` entry ignoring exactly the resource types the stack uses
#: that moto skips: EventInvokeConfig, the alarms and their topic's
#: subscription, and the TLS-only bucket and queue policies.
MOTO_UNSUPPORTED_RESOURCES = (
    # Dots stand for the colons a filterwarnings entry cannot hold.
    r"ignore:Tried to parse AWS..(Lambda..EventInvokeConfig|CloudWatch..Alarm"
    r"|SQS..QueuePolicy|S3..BucketPolicy|SNS..Subscription) but it.s not supported:UserWarning"
)
