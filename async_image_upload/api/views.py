"""The three endpoints. Each view validates, calls a service, renders."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import status as http
from rest_framework.exceptions import APIException, AuthenticationFailed, NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from async_image_upload import signing
from async_image_upload.api.callback import BodyNotJSON, load_callback_body, parse_callback
from async_image_upload.api.presign import parse_presign_request
from async_image_upload.api.schema import (
    EXAMPLE_CALLBACK,
    EXAMPLE_PRESIGN_REQUEST,
    EXAMPLE_STATUS,
    error_responses,
    example,
    extend_schema,
    uuid_path_parameter,
)
from async_image_upload.api.serializers import (
    CallbackResponseSerializer,
    CallbackSerializer,
    ErrorDetailSerializer,
    PresignRequestSerializer,
    PresignResponseSerializer,
    UploadStatusSerializer,
    status_url,
)
from async_image_upload.api.throttling import AnonymousPendingCap
from async_image_upload.conf import upload_settings
from async_image_upload.ids import InvalidUploadId, parse_upload_id
from async_image_upload.models import ImageUpload, InvalidTransition
from async_image_upload.services import (
    PendingCapReached,
    StorageNotConfigured,
    apply_callback,
    create_upload,
)

logger = logging.getLogger("async_image_upload")


class TooManyPending(APIException):
    status_code = http.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many uploads are still pending; finish or wait for them first."
    default_code = "too_many_pending"


class StorageUnavailable(APIException):
    """The server cannot sign uploads (no bucket or credentials): its fault, not the client's."""

    status_code = http.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Uploads are not configured on this server."
    default_code = "storage_not_configured"


class _ConfiguredAPIView(GenericAPIView):
    """Takes authentication, permissions and throttles from the app settings."""

    def get_authenticators(self) -> list[Any]:
        classes = upload_settings.AUTHENTICATION_CLASSES
        if classes is None:
            classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
        return [cls() for cls in classes]

    def get_permissions(self) -> list[Any]:
        return [cls() for cls in upload_settings.PERMISSION_CLASSES]

    def get_throttles(self) -> list[Any]:
        return [cls() for cls in upload_settings.THROTTLE_CLASSES]


def visible_uploads(request: Request) -> Any:
    """Own uploads; anonymous callers (where permissions allow them) see ownerless ones."""
    if request.user and request.user.is_authenticated:
        return ImageUpload.objects.filter(owner=request.user)
    return ImageUpload.objects.filter(owner__isnull=True)


class UploadCreateView(_ConfiguredAPIView):
    """Start an upload: returns a presigned POST for exactly one key."""

    serializer_class = PresignRequestSerializer

    @extend_schema(
        operation_id="async_image_upload_create",
        request=PresignRequestSerializer,
        responses={
            201: PresignResponseSerializer,
            **error_responses(ErrorDetailSerializer, 400, 401, 403, 415, 429, 503),
        },
        examples=example(
            "JPEG photo",
            EXAMPLE_PRESIGN_REQUEST,
            request_only=True,
        ),
    )
    def post(self, request: Request) -> Response:
        data = self.validated_request(request)
        anonymous = None
        if not (request.user and request.user.is_authenticated):
            anonymous = AnonymousPendingCap(request)
            open_ids = anonymous.open_ids()
            if len(open_ids) >= int(upload_settings.MAX_PENDING_PER_ANONYMOUS_CLIENT):
                raise TooManyPending()
        try:
            created = create_upload(
                owner=request.user,
                options=data["options"],
                filename=data.get("filename", ""),
                content_type=data["content_type"],
                size=data["size"],
                max_pending=int(upload_settings.MAX_PENDING_PER_USER),
            )
        except PendingCapReached as exc:
            raise TooManyPending() from exc
        except StorageNotConfigured as exc:
            logger.error("Cannot presign an upload: %s", exc)
            raise StorageUnavailable(str(exc)) from exc
        if anonymous is not None:
            anonymous.remember(open_ids, created.upload.pk)
        body = {
            "id": str(created.upload.pk),
            "status": created.upload.status,
            "url": created.post.url,
            "fields": created.post.fields,
            "max_bytes": data["options"].max_bytes,
            "expires_at": created.post_expires_at,
            "status_url": status_url(request, created.upload),
        }
        # Already the documented shape (PresignResponseSerializer); rendering it through
        # the serializer again would cost more than the database insert.
        return Response(body, status=http.HTTP_201_CREATED)

    def validated_request(self, request: Request) -> dict[str, Any]:
        """The request's validated data, through the fastest path that keeps its rules.

        With the app's own serializer, its rules run as plain Python
        (api/presign.py): DRF's per-call machinery costs more than the insert. A
        subclass that names its own ``serializer_class`` (a subclass of
        ``PresignRequestSerializer`` adding rules of the project's) gets it run
        in full, as DRF's generic views would.
        """
        serializer_class = self.get_serializer_class()
        if serializer_class is PresignRequestSerializer:
            return parse_presign_request(request.data)
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class UploadDetailView(_ConfiguredAPIView):
    """An upload's status, source facts and variant URLs. Owner only."""

    serializer_class = UploadStatusSerializer

    def get_throttles(self) -> list[Any]:
        return [cls() for cls in upload_settings.STATUS_THROTTLE_CLASSES]

    @extend_schema(
        operation_id="async_image_upload_retrieve",
        parameters=uuid_path_parameter("id"),
        responses={
            200: UploadStatusSerializer,
            **error_responses(ErrorDetailSerializer, 401, 403, 404, 429),
        },
        examples=example("Ready photo", EXAMPLE_STATUS, response_only=True, status_codes=["200"]),
    )
    def get(self, request: Request, pk: str) -> Response:
        try:
            upload_id = parse_upload_id(pk)
        except InvalidUploadId as exc:
            raise NotFound("No such upload.") from exc
        upload = visible_uploads(request).filter(pk=upload_id).first()
        if upload is None:
            raise NotFound("No such upload.")
        return Response(UploadStatusSerializer(upload).data)


def read_at_most(request: Request, size: int) -> bytes:
    """Up to ``size`` bytes of the raw body, never more.

    A chunked request has no Content-Length to refuse up front, and
    ``request.body`` would hold all of it (everything, when a project sets
    ``DATA_UPLOAD_MAX_MEMORY_SIZE = None``) before the size check could run.
    """
    django_request = request._request
    if hasattr(django_request, "_body"):  # something earlier already read it
        return django_request._body[:size]
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = django_request.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


class PayloadTooLarge(APIException):
    status_code = http.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Callback body too large."
    default_code = "too_large"


class SignatureRejected(AuthenticationFailed):
    default_code = "bad_signature"

    def __init__(self, reason: str) -> None:
        super().__init__(detail=reason)


class CallbackView(APIView):
    """Where the Lambda reports a result. Authenticated by HMAC, not by a user.

    No session authentication means no CSRF check; the signature over the raw
    body and a timestamp is the only credential, checked before any parsing.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # The view reads the raw body itself; this only tells the schema it is JSON.
    parser_classes = [JSONParser]

    def get_throttles(self) -> list[Any]:
        return [cls() for cls in upload_settings.CALLBACK_THROTTLE_CLASSES]

    def get_authenticate_header(self, request: Request) -> str:
        return 'HMAC-SHA256 realm="async_image_upload"'

    @extend_schema(
        operation_id="async_image_upload_callback",
        request=CallbackSerializer,
        examples=example("Thumbnails ready", EXAMPLE_CALLBACK, request_only=True),
        responses={
            200: CallbackResponseSerializer,
            **error_responses(ErrorDetailSerializer, 400, 401, 404, 409, 413, 429),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        limit = int(upload_settings.CALLBACK_MAX_BODY_BYTES)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise PayloadTooLarge()
        body = read_at_most(request, limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge()
        try:
            verified = signing.verify(
                body=body,
                timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
                signature=request.headers.get(signing.SIGNATURE_HEADER),
                secrets=upload_settings.callback_secrets,
                max_age=int(upload_settings.CALLBACK_MAX_AGE),
            )
        except signing.SignatureError as exc:
            logger.warning("Rejected upload callback: %s", exc.reason)
            raise SignatureRejected(exc.reason) from exc
        if verified.secret_index:
            logger.info("Upload callback signed with a fallback secret; finish the rotation.")
        try:
            payload = load_callback_body(body)
        except BodyNotJSON as exc:
            return Response(
                {"detail": f"Body is not JSON: {exc}"}, status=http.HTTP_400_BAD_REQUEST
            )
        try:
            upload, outcome = apply_callback(parse_callback(payload))
        except ImageUpload.DoesNotExist as exc:
            raise NotFound("Unknown upload.") from exc
        except InvalidTransition as exc:
            return Response(
                {"detail": str(exc), "status": exc.current}, status=http.HTTP_409_CONFLICT
            )
        return Response({"id": str(upload.pk), "status": upload.status, "outcome": outcome})
