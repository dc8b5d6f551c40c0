"""What moto's CloudFormation does not build, and the warning it gives for each.

moto warns (from its server thread, where ``filterwarnings = error`` would turn
the warning into a 500) and skips these resource types; the tests assert them
through the template instead (test_template.py, test_template_hardening.py).
"""

import pytest

#: A ``filterwarnings`` entry ignoring exactly the resource types the stack uses
#: that moto skips: EventInvokeConfig, the alarms and their topic's
#: subscription, the TLS-only bucket and queue policies, and every CloudFront
#: type ``--cdn`` adds (moto's CloudFormation has none: test_cdn_deploy.py).
MOTO_UNSUPPORTED_RESOURCES = (
    # Dots stand for the colons a filterwarnings entry cannot hold.
    r"ignore:Tried to parse AWS..(Lambda..EventInvokeConfig|CloudWatch..Alarm"
    r"|SQS..QueuePolicy|S3..BucketPolicy|SNS..Subscription|CloudFront..\w+)"
    r" but it.s not supported:UserWarning"
)


@pytest.fixture(autouse=True)
def moto_requests_come_over_tls(monkeypatch):
    """Let moto evaluate our TLS-only Deny statements as S3 does for an https request.

    moto's policy check does not know the ``Bool`` operator, takes the condition
    as met, and so denies every request to a bucket with a TLS-only policy. Real
    S3 endpoints are https, so the test server's requests count as made over
    TLS: a ``Deny`` on ``aws:SecureTransport`` ``false`` does not apply to them.
    Import this fixture into a test module that deploys through the command.
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted
    without_tls = {"Bool": {"aws:SecureTransport": "false"}}

    def is_action_permitted(self, *args, **kwargs):
        if self._statement.get("Effect") == "Deny" and (
            self._statement.get("Condition") == without_tls
        ):
            return PermissionResult.NEUTRAL
        return original(self, *args, **kwargs)

    monkeypatch.setattr(IAMPolicyStatement, "is_action_permitted", is_action_permitted)
