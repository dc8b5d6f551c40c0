"""The HTTP API: presign, status and the Lambda's callback (Django REST framework)."""
