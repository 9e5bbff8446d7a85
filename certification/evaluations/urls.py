from django.urls import path

from . import caregiver_views, views

urlpatterns = [
    path("assess/", views.assessor_home, name="assessor_home"),
    path("assess/evaluations/<int:evaluation_id>/", views.evaluation_propose, name="evaluation_propose"),
    path("assess/evaluations/<int:evaluation_id>/review/", views.evaluation_review, name="evaluation_review"),
    path("me/star/", caregiver_views.my_star, name="my_star"),
    path("me/star/apply/", caregiver_views.my_star_apply, name="my_star_apply"),
    path("me/star/history/", caregiver_views.my_star_history, name="my_star_history"),
    path(
        "me/star/evaluations/<int:evaluation_id>/withdraw/", caregiver_views.my_star_withdraw, name="my_star_withdraw"
    ),
    path("me/star/evaluations/<int:evaluation_id>/appeal/", caregiver_views.my_star_appeal, name="my_star_appeal"),
]
