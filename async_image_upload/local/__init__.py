"""The local stack: embedded S3, the bundled Lambda fed by real S3 events, and Django.

Nothing here is a shortcut around S3: the browser POSTs to the embedded S3
server, S3's own ObjectCreated notification puts the event on a queue, and a
worker hands it to the same handler code production runs, configured from the
same environment variables (passed as a mapping, never through ``os.environ``).
"""
