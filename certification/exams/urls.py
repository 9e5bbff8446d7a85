from django.urls import path

from . import views

urlpatterns = [
    path("exams/<int:exam_id>/", views.exam_start, name="exam_start"),
    path("exams/attempts/<int:attempt_id>/", views.attempt, name="attempt"),
    path("exams/attempts/<int:attempt_id>/answer/", views.attempt_answer, name="attempt_answer"),
    path("exams/attempts/<int:attempt_id>/state/", views.attempt_state, name="attempt_state"),
    path("exams/attempts/<int:attempt_id>/result/", views.attempt_result, name="attempt_result"),
]
