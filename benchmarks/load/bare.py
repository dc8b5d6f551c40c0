"""The yardstick: bare DRF views doing the same database write as the app's endpoints.

Same authentication and permission as the app's presign view, same row
inserted; the bare callback writes the same columns with the same values as
the app's callback (one ``UPDATE … WHERE status = 'pending'``) straight from
the unchecked JSON. Nothing else — no validation, no policy signing, no HMAC,
no throttle, no signal — so the ratio app/bare is what the app's safety costs.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from django.utils import timezone
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from async_image_upload.models import ImageUpload, Status


class BarePresign(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        now = timezone.now()
        upload = ImageUpload.objects.create(
            id=uuid.uuid4(),
            owner=request.user,
            original_filename=request.data.get("filename", ""),
            content_type=request.data.get("content_type", ""),
            declared_bytes=int(request.data.get("size", 0)),
            requested_variants=["50x50", "100x100", "400x400", "original"],
            blur_radius=20,
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
        return Response({"id": str(upload.pk), "status": upload.status}, status=201)


class BareCallback(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        payload = json.loads(request.body)
        source = payload["source"]
        now = timezone.now()
        ImageUpload.objects.filter(pk=payload["upload_id"], status=Status.PENDING).update(
            status=payload["status"],
            source_etag=source["etag"],
            source_bytes=source["bytes"],
            source_format=source["format"],
            source_width=source["width"],
            source_height=source["height"],
            variants=payload["variants"],
            placeholder=payload.get("placeholder") or "",
            error_code="",
            error_message="",
            completed_at=now,
            updated_at=now,
        )
        return Response({"id": payload["upload_id"], "status": payload["status"]})
