"""Request limits the Lambda shares with Django (docs/contract.md, "Object metadata").

Django's ``async_image_upload/variants.py`` refuses the same limits before it
signs a presigned POST; change them on both sides at once.
"""

from __future__ import annotations

#: Largest side of a ``WxH`` variant box, in pixels.
MAX_BOX = 8192
#: Most variants one upload may ask for in ``x-amz-meta-variants``.
MAX_VARIANTS = 12
#: Largest Gaussian radius (``BLUR_RADIUS``, ``x-amz-meta-blur-radius``): beyond it a
#: blurred variant is a flat colour, and the blur's cost grows with the radius.
MAX_BLUR_RADIUS = 250
#: Longest inline placeholder (``data:`` URI) Django accepts in a callback. Ours is a
#: 16-pixel WebP of a few hundred characters; a test holds the worst case under it.
MAX_PLACEHOLDER_CHARS = 8192
