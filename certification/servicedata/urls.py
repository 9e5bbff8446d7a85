from django.urls import path

from . import api

urlpatterns = [
    path("api/service-data/", api.service_data_receive, name="service_data_api"),
]
