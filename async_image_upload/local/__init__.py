"""The local stack: embedded S3, the bundled Lambda fed by real S3 events, and Django.

Nothing here is a shortcut around S3: the browser POSTs to the embedded S3
server, S3's own ObjectCreated notification puts the event on a queue, and a
worker hands it to the same ``lambda_handler`` (and the same environment
variables) that production runs.
"""
