"""What the local stack tells the project it runs in.

``run_local_stack --smoke`` uploads through the API as a client would, but a
client would then attach the upload to one of its own models, which the
generic stack cannot know. It sends :data:`smoke_upload_finished` instead, and
the project decides (the example project attaches the upload to a ``Photo`` so
it shows in its gallery; docs/local-stack.md shows the receiver).
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent once the smoke upload reached a final status, with ``upload`` (the
#: ``ImageUpload``; its ``owner`` is the ``--demo-user``) and ``status``.
#: A receiver that raises makes ``--exit-after-smoke`` fail.
smoke_upload_finished = Signal()
