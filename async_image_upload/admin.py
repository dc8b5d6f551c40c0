"""Admin for uploads: read-only, since only the Lambda's callback changes them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from async_image_upload.models import ImageUpload


@admin.register(ImageUpload)
class ImageUploadAdmin(admin.ModelAdmin):
    list_display = ("id", "original_filename", "owner", "field_id", "status", "created_at")
    list_filter = ("status", "field_id", "created_at")
    search_fields = ("=id", "original_filename", "owner__username")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    fields = (
        "id", "owner", "field_id", "status", "original_filename", "content_type",
        "declared_bytes", "preview", "source_format", "source_width", "source_height",
        "source_bytes", "source_etag", "variant_table", "error_code", "error_message",
        "created_at", "expires_at", "completed_at",
    )  # fmt: skip

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return list(self.fields)

    def has_add_permission(self, request: Any) -> bool:
        return False

    @admin.display(description=_("preview"))
    def preview(self, obj: ImageUpload) -> str:
        image = obj.as_image()
        url = image.url("400x400") or image.url() or obj.placeholder
        if not url:
            return "—"
        return format_html('<img src="{}" alt="" style="max-width:400px;max-height:400px">', url)

    @admin.display(description=_("variants"))
    def variant_table(self, obj: ImageUpload) -> str:
        rows = obj.as_image().variants
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>name</th><th>blurred</th><th>pixels</th><th>bytes</th></tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}&times;{}</td><td>{}</td></tr>',
                ((v.url, v.name, v.blurred, v.width, v.height, v.bytes) for v in rows),
            ),
        )
