from .api import api

# Mounted at /api/v1/ by cartable.urls, under the namespace "api" (django-ninja reverses its
# views there to write the OpenAPI document).
urlpatterns, app_name, _namespace = api.urls
app_name = "api"
