from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("me/", views.my_learning, name="my_learning"),
    path("courses/", views.course_list, name="course_list"),
    path("training/courses/<int:course_id>/enrol/", views.enrol, name="enrol"),
    path("training/lessons/<int:lesson_id>/complete/", views.lesson_complete, name="lesson_complete"),
]
