from django.urls import path

from . import views

app_name = "content"

urlpatterns = [
    path("standards/", views.standard_list, name="standard_list"),
    path("standards/<int:standard_id>/", views.standard_detail, name="standard_detail"),
    path("service-items/", views.service_item_list, name="service_item_list"),
]
