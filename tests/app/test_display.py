"""``{% async_img %}`` and ``render_img``: the responsive ``<img>`` and its escaping.

The markup is parsed back with the standard library's HTML parser, so the
assertions read attributes as a browser would, not substrings.
"""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import path
from PIL import Image
from rest_framework import serializers

from async_image_upload import AsyncImage, AsyncImageDisplayField, Status
from async_image_upload.display import image_display, render_img
from async_image_upload.models import ImageUpload
from tests.testapp.models import Photo

pytestmark = pytest.mark.django_db

SIZES = [("50x50", 50, 25), ("100x100", 100, 50), ("400x400", 400, 200), ("original", 4000, 2000)]


def webp_placeholder() -> str:
    out = io.BytesIO()
    Image.new("RGB", (16, 8), (200, 40, 40)).save(out, "WEBP")
    return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode()


def ready(upload: ImageUpload, *, placeholder: str | None = None) -> ImageUpload:
    upload_id = upload.pk
    variants = [
        {
            "name": name,
            "key": f"image/{upload_id}/{name}{'_blur' if blurred else ''}.jpg",
            "blurred": blurred,
            "width": width if not blurred else max(1, width // 4),
            "height": height if not blurred else max(1, height // 4),
            "display_width": width,
            "display_height": height,
            "bytes": 1000,
            "content_type": "image/jpeg",
        }
        for name, width, height in SIZES
        for blurred in (False, True)
    ]
    assert upload.transition(
        Status.READY,
        variants=variants,
        placeholder=webp_placeholder() if placeholder is None else placeholder,
        source_width=4000,
        source_height=2000,
    )
    return upload


class Tags(HTMLParser):
    """Every start tag of a fragment, as (tag, {attribute: value}) in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def only_tag(html: str) -> tuple[str, dict[str, str | None]]:
    tags = Tags(html).tags
    assert len(tags) == 1, html
    return tags[0]


def render(template: str, **context: object) -> str:
    return Template("{% load async_images %}" + template).render(Context(context))


def test_ready_upload_renders_a_responsive_img(make_upload) -> None:
    upload = ready(make_upload())
    photo = Photo.objects.create(title="Beach", image=upload)
    html = render(
        '{% async_img photo.image sizes="(max-width: 600px) 100vw, 400px" alt=photo.title'
        ' class="thumb" data_photo=photo.pk %}',
        photo=Photo.objects.get(pk=photo.pk),
    )
    tag, attrs = only_tag(html)
    assert tag == "img"
    assert f"/image/{upload.pk}/400x400.jpg" in attrs["src"]
    entries = [entry.rsplit(" ", 1) for entry in attrs["srcset"].split(", ")]
    assert [width for _url, width in entries] == ["50w", "100w", "400w", "4000w"]
    assert all("_blur" not in url for url, _width in entries)
    assert attrs["sizes"] == "(max-width: 600px) 100vw, 400px"
    # The src variant's display size: the browser reserves a 2:1 box before any byte arrives.
    assert (attrs["width"], attrs["height"]) == ("400", "200")
    assert attrs["alt"] == "Beach" and attrs["class"] == "thumb"
    assert attrs["loading"] == "lazy" and attrs["decoding"] == "async"
    assert attrs["data-photo"] == str(photo.pk)
    assert "data-async-img-placeholder" in attrs
    assert attrs["style"].startswith('background-image:url("data:image/webp;base64,')


def test_defaults_and_overrides(make_upload) -> None:
    image = ready(make_upload()).as_image()
    _tag, attrs = only_tag(render_img(image))
    assert attrs["sizes"] == "auto, 100vw"  # lazy: the laid-out width, then the HTML default
    assert attrs["alt"] == ""  # decorative unless told: never a missing alt
    _tag, attrs = only_tag(
        render_img(image, loading="eager", decoding=None, variant="100x100", width=300)
    )
    assert attrs["loading"] == "eager" and "decoding" not in attrs
    assert attrs["sizes"] == "100vw"
    assert "/100x100.jpg" in attrs["src"]
    assert (attrs["width"], attrs["height"]) == ("300", "150")  # scaled to the aspect ratio
    _tag, attrs = only_tag(render_img(image, height=100, placeholder=False))
    assert (attrs["width"], attrs["height"]) == ("200", "100")
    assert "style" not in attrs and "data-async-img-placeholder" not in attrs
    _tag, attrs = only_tag(render_img(image, variant="no-such-size"))
    assert "/400x400.jpg" in attrs["src"]  # an unknown name falls back to the default
    with pytest.raises(TypeError, match="'srcset' is computed"):
        render_img(image, attrs={"srcset": "x.jpg 1w"})
    with pytest.raises(ValueError, match="not an HTML attribute name"):
        render_img(image, attrs={'x" onload="alert(1)': "1"})


def test_the_tag_and_the_function_agree(make_upload) -> None:
    image = ready(make_upload()).as_image()
    assert render("{% async_img image alt='A' %}", image=image) == str(render_img(image, alt="A"))


def test_hostile_alt_text_stays_an_attribute_value(make_upload) -> None:
    image = ready(make_upload()).as_image()
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2) alt="'
    html = render("{% async_img image alt=title %}", image=image, title=hostile)
    tag, attrs = only_tag(html)
    assert tag == "img" and attrs["alt"] == hostile
    assert "<script" not in html and "onerror" not in attrs


def test_a_hostile_stored_placeholder_is_not_inlined(make_upload) -> None:
    """A row edited by hand (the callback refuses these) must not reach CSS or HTML."""
    upload = ready(make_upload())
    for hostile in (
        'data:image/webp;base64,AAAA");background:url("https://evil.example/x',
        "data:image/webp;base64,AA)</style><script>alert(1)</script>",
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zy8+",
    ):
        ImageUpload.objects.filter(pk=upload.pk).update(placeholder=hostile)
        html = str(render_img(AsyncImage(upload.pk)))
        _tag, attrs = only_tag(html)
        assert "style" not in attrs, html
        assert "evil.example" not in html and "<script" not in html and "javascript" not in html


def test_css_string_escapes_whatever_could_leave_it() -> None:
    from async_image_upload._markup import css_string

    escaped = css_string("a\"b'c(d)e\\f</style>\ng")
    assert escaped == '"a\\22 b\\27 c\\28 d\\29 e\\5c f\\3c /style\\3e \\a g"'


@override_settings(
    ASYNC_IMAGE_UPLOAD={
        "BUCKET": "test-bucket",
        "URL_MODE": "custom_domain",
        "CUSTOM_DOMAIN": 'cdn.example/a,b "q" (p)',
        "URL_PROTOCOL": "https",
    }
)
def test_hostile_urls_are_escaped_and_commas_cannot_split_srcset(make_upload) -> None:
    image = ready(make_upload()).as_image()
    html = str(render_img(image))
    _tag, attrs = only_tag(html)
    assert attrs["src"].startswith('https://cdn.example/a,b "q" (p)/image/')
    entries = attrs["srcset"].split(", ")
    assert len(entries) == 4, entries  # commas and spaces inside URLs are percent-encoded
    assert entries[0].startswith('https://cdn.example/a%2Cb%20"q"%20(p)/image/'), entries[0]
    assert '"q"' not in html  # quotes only ever appear as &quot;


@override_settings(
    ASYNC_IMAGE_UPLOAD={
        "BUCKET": "test-bucket",
        "URL_MODE": "custom_domain",
        "CUSTOM_DOMAIN": "x/%0aalert(1)//",
        "URL_PROTOCOL": "javascript",
    }
)
def test_a_javascript_url_is_never_rendered(make_upload) -> None:
    image = ready(make_upload()).as_image()
    assert image.url("400x400").startswith("javascript:")
    html = str(render_img(image, alt="x"))
    tag, attrs = only_tag(html)
    assert tag == "span" and attrs["data-status"] == "ready"  # nothing safe to show
    assert "javascript" not in html


def test_pending_failed_and_missing_uploads(make_upload) -> None:
    pending = make_upload()
    tag, attrs = only_tag(render_img(pending.as_image(), alt="Beach", attrs={"class": "thumb"}))
    assert tag == "span"
    assert attrs == {
        "class": "async-img-pending thumb",
        "data-status": "pending",
        "role": "img",
        "aria-label": "Beach",
    }
    failed = make_upload()
    failed.transition(Status.FAILED, error_code="corrupt", error_message="damaged")
    tag, attrs = only_tag(render_img(failed.as_image()))
    assert tag == "span" and attrs["data-status"] == "failed" and attrs["aria-hidden"] == "true"
    gone = make_upload()
    image = gone.as_image()
    gone.delete()
    assert render_img(AsyncImage(image.id)) == ""
    assert render("{% async_img photo.image alt='x' %}", photo=Photo(title="none")) == ""
    assert image_display(None) is None


def test_the_value_sees_a_later_transition_of_the_same_row(make_upload) -> None:
    upload = make_upload()
    image = upload.as_image()
    assert image.srcset() == "" and image.url("400x400") is None
    ready(upload)  # the same row object moves to ready: the cached empty parse is dropped
    assert "/400x400.jpg" in image.url("400x400")
    assert image.srcset().count("w, ") == 3


def test_a_value_reloaded_from_the_database_sees_changed_variants(make_upload) -> None:
    upload = ready(make_upload())
    photo = Photo.objects.create(image=upload)
    first = Photo.objects.get(pk=photo.pk).image
    assert len(first.variants) == 8
    ImageUpload.objects.filter(pk=upload.pk).update(variants=upload.variants[:2])
    again = Photo.objects.get(pk=photo.pk).image  # a new value: a new parse, no shared cache
    assert len(again.variants) == 2 and len(first.variants) == 8
    first.upload.refresh_from_db()
    assert len(first.variants) == 2  # refresh_from_db puts a new list on the row


def test_parsing_happens_once_per_value(make_upload, django_assert_num_queries) -> None:
    image = AsyncImage(ready(make_upload()).pk)
    with django_assert_num_queries(1):
        image.srcset()
    parsed = image.variants
    assert image.variant("400x400") is parsed[4]  # the same objects: not parsed again
    assert image.by_width()[-1] is image.variant("original")


class PhotoDisplaySerializer(serializers.ModelSerializer):
    display = AsyncImageDisplayField(source="image", sizes="(min-width: 700px) 400px")

    class Meta:
        model = Photo
        fields = ["id", "title", "image", "display"]


def test_the_drf_display_field_matches_the_tag(make_upload) -> None:
    upload = ready(make_upload())
    photo = Photo.objects.get(pk=Photo.objects.create(title="Beach", image=upload).pk)
    data = PhotoDisplaySerializer(photo).data["display"]
    _tag, attrs = only_tag(render_img(photo.image, sizes="(min-width: 700px) 400px"))
    assert data["id"] == str(upload.pk) and data["status"] == "ready"
    for name in ("src", "srcset", "sizes"):
        assert data[name] == attrs[name], name
    assert (data["width"], data["height"]) == (int(attrs["width"]), int(attrs["height"]))
    assert data["placeholder"] == upload.placeholder
    assert len(data["variants"]) == 8 and data["error"] is None
    assert {"url", "display_width", "blurred"} <= set(data["variants"][0])
    # Read-only: a client sending it back changes nothing and is no error.
    echo = PhotoDisplaySerializer(photo, data={"title": "x", "display": data}, partial=True)
    assert echo.is_valid(), echo.errors
    assert "display" not in echo.validated_data and "image" not in echo.validated_data


def test_the_drf_display_field_for_pending_failed_and_missing(make_upload) -> None:
    pending = Photo.objects.create(image=make_upload())
    data = PhotoDisplaySerializer(pending).data["display"]
    assert data["status"] == "pending" and data["src"] is None and data["srcset"] == ""
    assert data["width"] is None and data["variants"] == [] and data["placeholder"] is None
    failed_upload = make_upload()
    failed_upload.transition(Status.FAILED, error_code="corrupt", error_message="damaged")
    failed = Photo.objects.create(image=failed_upload)
    assert PhotoDisplaySerializer(failed).data["display"]["error"] == {
        "code": "corrupt",
        "message": "damaged",
    }
    assert PhotoDisplaySerializer(Photo.objects.create()).data["display"] is None


def test_the_display_field_is_in_the_openapi_schema() -> None:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema
    from rest_framework import generics

    class PhotoList(generics.ListAPIView):
        queryset = Photo.objects.all()
        serializer_class = PhotoDisplaySerializer

    generator = SchemaGenerator(patterns=[path("photos/", PhotoList.as_view())])
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    components = schema["components"]["schemas"]
    display = components["PhotoDisplay"]["properties"]["display"]
    ref = display.get("$ref") or next(item["$ref"] for item in display["allOf"])
    shape = components[ref.rsplit("/", 1)[1]]
    assert set(shape["properties"]) == {
        "id", "status", "src", "srcset", "sizes", "width", "height",
        "placeholder", "variants", "error",
    }  # fmt: skip
    assert shape["properties"]["src"]["nullable"] is True
    assert "layout shift" in shape["properties"]["width"]["description"]


def test_a_prefetched_list_renders_without_a_query_per_photo(
    make_upload, django_assert_num_queries
) -> None:
    for n in range(3):
        Photo.objects.create(title=f"p{n}", image=ready(make_upload()))
    photos = list(Photo.objects.order_by("pk"))
    from async_image_upload import prefetch_uploads

    prefetch_uploads(photos, "image")
    with django_assert_num_queries(0):
        data = PhotoDisplaySerializer(photos, many=True).data
        markup = [str(render_img(photo.image, alt=photo.title)) for photo in photos]
    assert [item["display"]["status"] for item in data] == ["ready"] * 3
    assert all(html.startswith("<img ") for html in markup)
