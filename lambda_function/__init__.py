"""The bundled AWS Lambda of django-async-image-upload.

Ships in two places: as the top-level ``lambda_function`` package (tests,
zip root, handler ``lambda_function.handler.lambda_handler``) and nested as
``async_image_upload._lambda_source.lambda_function``. Every import inside is
therefore relative, and nothing here imports Django.
"""
