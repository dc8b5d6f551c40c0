"""The test URLs plus the OpenAPI schema, so schemathesis reads the schema the app serves."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from tests.urls import urlpatterns as base_urlpatterns

urlpatterns = [
    *base_urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
