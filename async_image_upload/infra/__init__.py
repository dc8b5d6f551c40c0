"""The thumbnail stack's infrastructure, behind ``manage.py deploy_thumbnail_stack``.

Settings in, running AWS stack out, in layers that can be tested apart:
``config`` (settings and options to one :class:`~.config.StackConfig`),
``environment`` (the Lambda's environment values), ``template`` (the pure
CloudFormation builder), ``package`` (the Lambda zip), ``bucket_merge`` (pure
merge of our notification and lifecycle rules into a bucket we don't own),
``bucket_inspect`` (reads such a bucket and warns), ``existing_bucket`` (plans
and applies that merge), ``artifacts`` (the code bucket), ``deploy``
(CloudFormation change sets), ``summary`` (settings snippet and drift) and
``aws_steps`` (the AWS half of the command, in order). Only ``aws_steps``,
``existing_bucket``, ``bucket_inspect``, ``artifacts`` and ``deploy`` make AWS
calls; nothing here imports the Lambda package.
"""
